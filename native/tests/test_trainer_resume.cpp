// Resume is exact: on stories260K, 6 steps straight equal 3 steps + save_checkpoint + a new
// Trainer + load_checkpoint + 3 steps, bit for bit (losses, grad norms, final parameters), for
// LoRA (with dropout, so the per-step dropout seeds are exercised, and a cosine schedule with
// warmup) and for full fine-tuning. Damaged checkpoints (truncated, a flipped data byte, an
// edited header value), a checkpoint of another base and one of another LoRA config are refused
// with BAD_MODEL_FILE naming the file, and leave the trainer exactly as it was. Rows the step
// cannot use are refused before anything changes; rows accumulate into one weighted mean.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "io/model_loader.h"
#include "stories260k.h"
#include "testing.h"
#include "train/train_checkpoint.h"
#include "train/trainer.h"

using namespace paddock;

namespace {

constexpr int kSteps = 6, kSplit = 3;

// Deterministic pseudo-text: what matters here is that every step sees different rows.
struct Data {
  std::vector<int32_t> tokens;
  std::vector<float> weights;
  Data() {
    uint32_t s = 2024;
    for (int i = 0; i < 400; i++) {
      s = s * 1664525u + 1013904223u;
      tokens.push_back((int32_t)(3 + (s >> 8) % 509));
      weights.push_back(i % 7 == 0 ? 0.0f : 1.0f);  // some masked positions
    }
  }
  TrainRow row(int64_t begin, int64_t T) const {
    TrainRow r;
    r.tokens = tokens.data() + begin;
    r.targets = tokens.data() + begin + 1;
    r.weights = weights.data() + begin + 1;
    r.T = T;
    return r;
  }
  // Two rows of different lengths per step (gradient accumulation over rows).
  std::vector<TrainRow> step_rows(int step) const { return {row(step * 37, 40), row(200 + step * 23, 29)}; }
};

TrainerConfig lora_config() {
  TrainerConfig c;
  c.method = TrainMethod::Lora;
  c.lora.rank = 4;
  c.lora.alpha = 8.0f;
  c.lora.dropout = 0.1f;
  c.optimizer.lr = 1e-2;
  c.optimizer.weight_decay = 0.01;
  c.schedule.kind = ScheduleKind::Cosine;
  c.schedule.warmup_steps = 2;
  c.schedule.total_steps = kSteps;
  c.schedule.final_ratio = 0.1f;
  c.seed = 12345678901234567ull;  // above 2^53: must survive the JSON config
  c.max_seq_len = 64;
  c.n_threads = 2;
  return c;
}

TrainerConfig full_config() {
  TrainerConfig c = lora_config();
  c.method = TrainMethod::Full;
  c.optimizer.lr = 1e-3;
  c.optimizer.weight_decay = 0.1;
  return c;
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

bool same_params(const ParamSet& a, const ParamSet& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++)
    if (a[i].name != b[i].name || a[i].value.size() != b[i].value.size() ||
        std::memcmp(a[i].value.data(), b[i].value.data(), a[i].value.size() * sizeof(float)) != 0)
      return false;
  return true;
}

std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), (std::streamsize)bytes.size());
}

std::unique_ptr<Trainer> make(const Model& m, const TrainerConfig& c) {
  std::unique_ptr<Trainer> t;
  CHECK_OK(Trainer::create(&m, c, &t));
  return t;
}

// A refused load: BAD_MODEL_FILE, the message names `path` (and `also` when given), and the
// trainer's parameters, step count and next step are unchanged.
void expect_refused(Trainer* t, const std::string& path, const char* also, const char* what) {
  const ParamSet before = t->params();
  const int64_t steps = t->steps_done();
  std::string extra = "untouched";
  Status s = t->load_checkpoint(path, &extra);
  CHECK_MSG(s.code() == ErrorCode::BadModelFile, "%s: %s", what, s.to_string().c_str());
  CHECK_MSG(s.message().find(path) != std::string::npos, "%s: message does not name the file: %s", what,
            s.message().c_str());
  if (also)
    CHECK_MSG(s.message().find(also) != std::string::npos, "%s: message does not name %s: %s", what, also,
              s.message().c_str());
  CHECK(same_params(before, t->params()) && t->steps_done() == steps && extra == "untouched");
  std::printf("%s refused: %s\n", what, s.message().c_str());
}

void test_resume(const Model& m, const Model& other_base, const TrainerConfig& cfg, const std::string& tmp,
                 const char* name) {
  const Data data;
  std::unique_ptr<Trainer> straight = make(m, cfg), first = make(m, cfg), second = make(m, cfg);
  if (!straight || !first || !second) return;
  std::vector<StepResult> ref(kSteps), split(kSteps);
  for (int i = 0; i < kSteps; i++) CHECK_OK(straight->step(data.step_rows(i), &ref[(size_t)i]));
  for (int i = 0; i < kSplit; i++) CHECK_OK(first->step(data.step_rows(i), &split[(size_t)i]));

  const std::string ck = tmp + "/" + name + ".ckpt.safetensors";
  const std::string extra = "{\"cursor\":3,\"rng\":\"9f0c\"}";
  CHECK_OK(first->save_checkpoint(ck, extra));
  // Written beside as "<path>.tmp-<pid>", then renamed: nothing but the checkpoint is left.
  for (const auto& e : std::filesystem::directory_iterator(tmp))
    CHECK(e.path().filename().string().find(".tmp") == std::string::npos);
  std::string got;
  CHECK_OK(second->load_checkpoint(ck, &got));
  CHECK(got == extra && second->steps_done() == kSplit);
  CHECK(same_params(first->params(), second->params()));
  for (int i = kSplit; i < kSteps; i++) CHECK_OK(second->step(data.step_rows(i), &split[(size_t)i]));

  bool bitwise = true;
  for (int i = 0; i < kSteps; i++) {
    const StepResult &a = ref[(size_t)i], &b = split[(size_t)i];
    const bool same = same_bits(a.loss, b.loss) && same_bits(a.grad_norm, b.grad_norm) && same_bits(a.lr, b.lr) &&
                      a.step == b.step && a.step == i + 1;
    CHECK_MSG(same, "%s step %d: straight loss %.17g norm %.17g lr %g, resumed loss %.17g norm %.17g lr %g", name,
              i + 1, a.loss, a.grad_norm, a.lr, b.loss, b.grad_norm, b.lr);
    bitwise = bitwise && same;
  }
  CHECK(same_params(straight->params(), second->params()));
  // The schedule really moved (warmup then cosine) and the run learned something.
  CHECK(ref[0].lr < ref[1].lr && ref[5].lr < ref[2].lr);
  CHECK(ref[5].loss < ref[0].loss);
  std::printf("%s: 6 straight == 3 + resume + 3: %s (loss %.6f -> %.6f)\n", name, bitwise ? "bitwise" : "NO",
              ref[0].loss, ref[5].loss);

  // Standalone read (export): config, parameters and extra without a trainer.
  TrainerConfig rc;
  ParamSet rp;
  std::string rextra;
  TrainCheckpointMeta meta;
  CHECK_OK(read_train_checkpoint(ck, &rc, &rp, &rextra, &meta));
  CHECK(rc.method == cfg.method && rc.seed == cfg.seed && rc.lora.rank == cfg.lora.rank &&
        rc.lora.alpha == cfg.lora.alpha && rc.lora.dropout == cfg.lora.dropout && rc.lora.targets == cfg.lora.targets);
  CHECK(rc.optimizer.lr == cfg.optimizer.lr && rc.optimizer.beta2 == cfg.optimizer.beta2 &&
        rc.schedule.kind == cfg.schedule.kind && rc.schedule.total_steps == cfg.schedule.total_steps &&
        rc.schedule.final_ratio == cfg.schedule.final_ratio && rc.max_seq_len == cfg.max_seq_len);
  CHECK(rextra == extra && meta.steps_done == kSplit && meta.adam_t == kSplit && meta.base.path == m.path &&
        meta.base.file_bytes == m.file_bytes);
  CHECK(same_params(rp, first->params()));

  // Damaged files: truncated, one data bit flipped, a header value edited (still valid JSON).
  const std::string bytes = read_bytes(ck);
  const std::string bad = tmp + "/" + name + ".bad.safetensors";
  write_bytes(bad, bytes.substr(0, bytes.size() / 2));
  expect_refused(second.get(), bad, nullptr, "truncated checkpoint");
  std::string flipped = bytes;
  flipped[flipped.size() - 5] ^= 0x10;
  write_bytes(bad, flipped);
  expect_refused(second.get(), bad, "damaged", "checkpoint with a flipped bit");
  std::string edited = bytes;
  const size_t at = edited.find("\"cursor\\\":3");  // inside extra_json, as escaped in the header
  CHECK(at != std::string::npos);
  if (at != std::string::npos) {
    edited[at + 10] = '4';
    write_bytes(bad, edited);
    expect_refused(second.get(), bad, "damaged", "checkpoint with an edited header");
  }
  std::remove(bad.c_str());
  TrainerConfig rank8 = cfg;
  rank8.lora.rank = 8;
  if (cfg.method == TrainMethod::Lora) {
    std::unique_ptr<Trainer> other = make(m, rank8);
    if (other) expect_refused(other.get(), ck, "rank 4", "checkpoint of another LoRA rank");
  }
  std::unique_ptr<Trainer> on_other = make(other_base, cfg);
  if (on_other) expect_refused(on_other.get(), ck, other_base.path.c_str(), "checkpoint of another base");
  std::remove(ck.c_str());
}

// The file format alone (no training graph needed): a written checkpoint reads back bit for bit
// (values, moments, counters, config, extra), and a damaged one is refused.
void test_checkpoint_file(const std::string& tmp) {
  TrainCheckpointMeta meta;
  meta.config = lora_config();
  meta.config.lora.targets = (1u << (int)LoraTarget::Q) | (1u << (int)LoraTarget::Down);
  meta.config.optimizer.beta2 = 0.95;
  meta.base = {"/models/x.gguf", 123456789, 4242};
  meta.steps_done = 17;
  meta.adam_t = 17;
  meta.extra_json = "{\"cursor\":[1,2],\"note\":\"a \\\"quoted\\\" word\"}";
  ParamSet ps;
  AdamWState adam;
  ps.add("blk.0.attn_q.weight.lora_a", 4, 64);
  ps.add("output_norm.weight", 1, 64);
  adam.init(ps);
  uint32_t s = 7;
  auto next = [&s]() {
    s = s * 1664525u + 1013904223u;
    return (float)((int32_t)s) * 1e-9f;
  };
  for (size_t k = 0; k < ps.size(); k++)
    for (size_t i = 0; i < ps[k].value.size(); i++) {
      ps[k].value[i] = next();
      adam.m[k][i] = next();
      adam.v[k][i] = next() * next();
    }
  adam.t = 17;
  const std::string path = tmp + "/format.safetensors";
  CHECK_OK(write_train_checkpoint(path, meta, ps, adam));
  TrainerConfig c;
  ParamSet rp;
  std::string extra;
  TrainCheckpointMeta rm;
  AdamWState ra;
  CHECK_OK(read_train_checkpoint(path, &c, &rp, &extra, &rm, &ra));
  CHECK(same_params(ps, rp) && rp[0].rows == 4 && rp[1].cols == 64 && rp[0].grad.size() == rp[0].value.size());
  bool moments = ra.t == 17 && ra.m.size() == 2;
  for (size_t k = 0; moments && k < 2; k++)
    moments = ra.m[k] == adam.m[k] && ra.v[k] == adam.v[k];
  CHECK(moments);
  CHECK(extra == meta.extra_json && rm.steps_done == 17 && rm.base.path == meta.base.path &&
        rm.base.file_bytes == 123456789 && rm.base.parameter_count == 4242);
  CHECK(c.seed == meta.config.seed && c.lora.targets == meta.config.lora.targets && c.optimizer.beta2 == 0.95 &&
        c.lora.dropout == 0.1f && c.schedule.final_ratio == 0.1f && c.n_threads == 2);
  // A damaged file: nothing is written to the outputs.
  const std::string bytes = read_bytes(path);
  std::string flipped = bytes;
  flipped[bytes.size() / 2 + 200] ^= 1;
  write_bytes(path, flipped);
  extra = "kept";
  Status st = read_train_checkpoint(path, &c, &rp, &extra, &rm, &ra);
  CHECK_MSG(st.code() == ErrorCode::BadModelFile && st.message().find(path) != std::string::npos, "%s",
            st.to_string().c_str());
  CHECK(extra == "kept");
  write_bytes(path, bytes.substr(0, 7));
  CHECK(read_train_checkpoint(path, &c, &rp, &extra, &rm, &ra).code() == ErrorCode::BadModelFile);
  CHECK(read_train_checkpoint(tmp + "/missing.safetensors", &c, &rp, &extra).code() == ErrorCode::IO);
  std::remove(path.c_str());
}

// Rows the step cannot use are refused before anything changes.
void test_bad_rows(const Model& m) {
  std::unique_ptr<Trainer> t = make(m, lora_config());
  if (!t) return;
  const Data data;
  const ParamSet before = t->params();
  std::vector<float> zeros(64, 0.0f);
  TrainRow masked = data.row(0, 30);
  masked.weights = zeros.data();
  StepResult r;
  CHECK(t->step({masked}, &r).code() == ErrorCode::InvalidArgument);
  std::vector<int32_t> bad_tokens(data.tokens.begin(), data.tokens.begin() + 31);
  bad_tokens[5] = 512;  // vocabulary is 512
  TrainRow bad = data.row(0, 30);
  bad.tokens = bad_tokens.data();
  CHECK(t->step({data.row(0, 30), bad}, &r).code() == ErrorCode::InvalidArgument);
  CHECK(t->step({data.row(0, 65)}, &r).code() == ErrorCode::InvalidArgument);  // above max_seq_len
  CHECK(t->step({}, &r).code() == ErrorCode::InvalidArgument);
  CHECK(t->steps_done() == 0 && same_params(before, t->params()));
  double eval = 0;
  CHECK_OK(t->evaluate({data.row(0, 30)}, &eval));
  CHECK(eval > 0 && t->steps_done() == 0);
  CHECK(t->memory_bytes() > (size_t)t->params().total_elements() * 16);
  // A non-finite loss or gradient is refused instead of spreading NaN into every weight.
  t->mutable_params()->find("blk.0.attn_q.weight.lora_a")->value[0] = NAN;
  const ParamSet poisoned = t->params();
  Status s = t->step({data.row(0, 30)}, &r);
  CHECK_MSG(s.code() == ErrorCode::InvalidArgument && s.message().find("not finite") != std::string::npos, "%s",
            s.to_string().c_str());
  CHECK(t->steps_done() == 0 && same_params(poisoned, t->params()));
}

// Gradient accumulation: a step over rows {r, r} is the weighted mean over both, so it equals a
// step over {r} up to float rounding of the summation order (1e-6 relative). Dropout is off so
// the two copies see the same forward.
void test_accumulation(const Model& m) {
  TrainerConfig c = lora_config();
  c.lora.dropout = 0.0f;
  std::unique_ptr<Trainer> one = make(m, c), two = make(m, c);
  if (!one || !two) return;
  const Data data;
  const TrainRow r = data.row(11, 50);
  for (int i = 0; i < 2; i++) {
    StepResult a, b;
    CHECK_OK(one->step({r}, &a));
    CHECK_OK(two->step({r, r}, &b));
    CHECK_MSG(std::fabs(a.loss - b.loss) <= 1e-6 * a.loss && std::fabs(a.grad_norm - b.grad_norm) <= 1e-6 * a.grad_norm,
              "step %d: one row loss %.9g norm %.9g, the row twice loss %.9g norm %.9g", i + 1, a.loss, a.grad_norm,
              b.loss, b.grad_norm);
    CHECK(b.tokens == 2 * a.tokens && b.loss_tokens == 2 * a.loss_tokens);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = pdtest::testdata_root(argc, argv) + "/models/stories260K/";
  if (!pdtest::file_exists(dir + "stories260K.bin") || !pdtest::file_exists(dir + "stories260K.v1.bin")) {
    std::printf("skip: stories260K not found in %s\n", dir.c_str());
    return pdtest::kSkip;
  }
  std::shared_ptr<Model> m = pdtest::load_stories260k(dir);
  // The same weights in llama2.c's other layout: another file, so another base to a checkpoint.
  std::shared_ptr<Model> v1 = pdtest::load_stories260k(dir, "stories260K.v1.bin");
  if (!m || !v1) return pdtest::finish("test_trainer_resume");
  // A fresh folder per run (portable: no mkdtemp on Windows), removed at the end.
  namespace fs = std::filesystem;
  const std::string tmp = (fs::temp_directory_path() /
                           ("pd_resume_" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count())))
                              .string();
  std::error_code ec;
  fs::create_directories(tmp, ec);
  CHECK_MSG(!ec, "cannot create %s", tmp.c_str());
  if (ec) return pdtest::finish("test_trainer_resume");
  test_checkpoint_file(tmp);
  test_resume(*m, *v1, lora_config(), tmp, "lora");
  test_resume(*m, *v1, full_config(), tmp, "full");
  test_bad_rows(*m);
  test_accumulation(*m);
  fs::remove_all(tmp, ec);
  return pdtest::finish("test_trainer_resume");
}
