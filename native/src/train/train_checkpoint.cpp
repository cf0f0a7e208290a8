#include "train/train_checkpoint.h"

#include <cinttypes>
#include <cmath>
#include <cstring>

#include "io/json_reader.h"
#include "io/mapped_file.h"
#include "io/safetensors.h"
#include "io/safetensors_writer.h"

namespace paddock {

namespace {

const char* const kFormat = "paddock-train-checkpoint";
const std::string kMomentM = "adamw.m.", kMomentV = "adamw.v.";

// A 64-bit hash over 8-byte words (multiply, rotate): catches truncation-free damage (flipped
// bits, edited header values) that the safetensors structure checks cannot see. Not a
// cryptographic hash; a fast one, since full fine-tuning checkpoints are gigabytes.
class Checksum {
 public:
  void add(const void* data, size_t n) {
    const uint8_t* p = (const uint8_t*)data;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      mix(w);
    }
    uint64_t tail = 0;
    for (size_t k = 0; i + k < n; k++) tail |= (uint64_t)p[i + k] << (8 * k);
    mix(tail ^ ((uint64_t)n << 56));  // the length too, so "ab" + "c" differs from "a" + "bc"
  }
  void add(const std::string& s) { add(s.data(), s.size()); }
  std::string hex() const { return strprintf("%016" PRIx64, h_); }

 private:
  void mix(uint64_t w) {
    h_ ^= w * 0x9E3779B97F4A7C15ull;
    h_ = (h_ << 27 | h_ >> 37) * 0xC2B2AE3D27D4EB4Full + 0x165667B19E3779F9ull;
  }
  uint64_t h_ = 0x243F6A8885A308D3ull;
};

std::string num(double x) { return strprintf("%.17g", x); }

// The metadata values that the checksum covers, in this fixed order (not the file's).
const char* const kHashedKeys[] = {"format", "format_version", "steps_done", "adam_t", "config",
                                   "base_model", "params", "extra_json"};

void hash_tensor(Checksum* h, const std::string& name, int64_t rows, int64_t cols, const void* data) {
  h->add(name);
  const int64_t shape[2] = {rows, cols};
  h->add(shape, sizeof shape);
  h->add(data, (size_t)(rows * cols) * sizeof(float));
}

const std::string* find_meta(const SafetensorsFile& f, const char* key) {
  for (const auto& kv : f.metadata)
    if (kv.first == key) return &kv.second;
  return nullptr;
}

bool parse_i64(const std::string& s, int64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

bool parse_u64(const std::string& s, uint64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9' || v > (UINT64_MAX - (uint64_t)(c - '0')) / 10) return false;
    v = v * 10 + (uint64_t)(c - '0');
  }
  *out = v;
  return true;
}

}  // namespace

BaseModelIdentity base_model_identity(const Model& m) { return {m.path, m.file_bytes, m.parameter_count}; }

Status check_same_base(const std::string& checkpoint_path, const BaseModelIdentity& saved, const Model& base) {
  if (saved.file_bytes == base.file_bytes && saved.parameter_count == base.parameter_count) return Status();
  return PD_ERROR(BadModelFile,
                  "%s: the checkpoint was trained on base model %s (%" PRIu64 " bytes, %" PRIu64
                  " parameters), not on %s (%" PRIu64 " bytes, %" PRIu64 " parameters)",
                  checkpoint_path.c_str(), saved.path.c_str(), saved.file_bytes, saved.parameter_count,
                  base.path.c_str(), base.file_bytes, base.parameter_count);
}

std::string trainer_config_to_json(const TrainerConfig& c) {
  std::string targets;
  for (int t = 0; t < kLoraTargetCount; t++)
    if (c.lora.targets_has((LoraTarget)t)) targets += std::string(targets.empty() ? "" : ",") + json_quote(lora_target_key((LoraTarget)t));
  const AdamWConfig& o = c.optimizer;
  const ScheduleConfig& s = c.schedule;
  return std::string("{\"method\":") + (c.method == TrainMethod::Full ? "\"full\"" : "\"lora\"") +
         ",\"lora\":{\"rank\":" + std::to_string(c.lora.rank) + ",\"alpha\":" + num(c.lora.alpha) +
         ",\"dropout\":" + num(c.lora.dropout) + ",\"targets\":[" + targets + "]}" +
         ",\"optimizer\":{\"lr\":" + num(o.lr) + ",\"beta1\":" + num(o.beta1) + ",\"beta2\":" + num(o.beta2) +
         ",\"eps\":" + num(o.eps) + ",\"weight_decay\":" + num(o.weight_decay) + ",\"clip_norm\":" + num(o.clip_norm) +
         "},\"schedule\":{\"kind\":" + json_quote(schedule_kind_name(s.kind)) +
         ",\"warmup_steps\":" + std::to_string(s.warmup_steps) + ",\"total_steps\":" + std::to_string(s.total_steps) +
         ",\"final_ratio\":" + num(s.final_ratio) + "}" +
         // The seed is a string: JSON numbers are doubles, exact only up to 2^53.
         ",\"seed\":\"" + std::to_string(c.seed) + "\",\"max_seq_len\":" + std::to_string(c.max_seq_len) +
         ",\"checkpoint_activations\":" + (c.checkpoint_activations ? "true" : "false") +
         ",\"n_threads\":" + std::to_string(c.n_threads) + "}";
}

Status trainer_config_from_json(const std::string& json, const std::string& source, TrainerConfig* out) {
  Json j;
  const char* src = source.c_str();
  if (!parse_json(json, &j) || j.kind != Json::Obj)
    return PD_ERROR(BadModelFile, "%s: the training config is not a JSON object", src);
  const Json* lora = j.get("lora");
  const Json* opt = j.get("optimizer");
  const Json* sched = j.get("schedule");
  const Json* targets = lora ? lora->get("targets") : nullptr;
  if (!lora || !opt || !sched || !targets || targets->kind != Json::Arr)
    return PD_ERROR(BadModelFile, "%s: the training config lacks lora, optimizer or schedule", src);
  TrainerConfig c;
  const std::string method = j.str("method");
  if (method != "full" && method != "lora")
    return PD_ERROR(BadModelFile, "%s: unknown training method '%s'", src, method.c_str());
  c.method = method == "full" ? TrainMethod::Full : TrainMethod::Lora;
  c.lora.rank = (int)lora->num("rank", 0);
  c.lora.alpha = (float)lora->num("alpha", NAN);
  c.lora.dropout = (float)lora->num("dropout", NAN);
  std::string csv;
  for (const Json& t : targets->a) csv += (csv.empty() ? "" : ",") + t.s;
  if (!parse_lora_targets(csv, &c.lora.targets).ok())
    return PD_ERROR(BadModelFile, "%s: bad LoRA targets '%s' in the training config", src, csv.c_str());
  c.optimizer.lr = opt->num("lr", NAN);
  c.optimizer.beta1 = opt->num("beta1", NAN);
  c.optimizer.beta2 = opt->num("beta2", NAN);
  c.optimizer.eps = opt->num("eps", NAN);
  c.optimizer.weight_decay = opt->num("weight_decay", NAN);
  c.optimizer.clip_norm = opt->num("clip_norm", NAN);
  if (!parse_schedule_kind(sched->str("kind"), &c.schedule.kind).ok())
    return PD_ERROR(BadModelFile, "%s: unknown schedule '%s' in the training config", src, sched->str("kind").c_str());
  c.schedule.warmup_steps = (int64_t)sched->num("warmup_steps", -1);
  c.schedule.total_steps = (int64_t)sched->num("total_steps", -1);
  c.schedule.final_ratio = (float)sched->num("final_ratio", NAN);
  c.max_seq_len = (int64_t)j.num("max_seq_len", 0);
  c.checkpoint_activations = j.boolean("checkpoint_activations", false);
  c.n_threads = (int)j.num("n_threads", 1);
  if (!parse_u64(j.str("seed"), &c.seed) || c.lora.rank < 1 || !std::isfinite(c.lora.alpha) ||
      !std::isfinite(c.lora.dropout) || !check_adamw_config(c.optimizer).ok() || !check_schedule(c.schedule).ok() ||
      c.max_seq_len < 1 || c.n_threads < 1)
    return PD_ERROR(BadModelFile, "%s: the training config has a missing or out-of-range field: %s", src, json.c_str());
  *out = c;
  return Status();
}

Status write_train_checkpoint(const std::string& path, const TrainCheckpointMeta& meta, const ParamSet& params,
                              const AdamWState& adam) {
  if (adam.m.size() != params.size() || adam.v.size() != params.size())
    return PD_ERROR(Internal, "%s: AdamW state has %zu moments for %zu parameters", path.c_str(), adam.m.size(),
                    params.size());
  std::string names = "[";
  for (size_t i = 0; i < params.size(); i++) names += (i ? "," : "") + json_quote(params[i].name);
  names += "]";
  std::vector<std::pair<std::string, std::string>> md = {
      {"format", kFormat},
      {"format_version", std::to_string(kTrainCheckpointVersion)},
      {"steps_done", std::to_string(meta.steps_done)},
      {"adam_t", std::to_string(meta.adam_t)},
      {"config", trainer_config_to_json(meta.config)},
      {"base_model", "{\"path\":" + json_quote(meta.base.path) + ",\"file_bytes\":" +
                         std::to_string(meta.base.file_bytes) + ",\"parameter_count\":" +
                         std::to_string(meta.base.parameter_count) + "}"},
      {"params", names},
      {"extra_json", meta.extra_json},
  };
  Checksum h;
  for (const auto& kv : md) h.add(kv.first + "=" + kv.second);  // same order as kHashedKeys

  std::vector<SafetensorsEntry> entries;
  const std::string* prefixes[3] = {nullptr, &kMomentM, &kMomentV};
  for (int part = 0; part < 3; part++)
    for (size_t i = 0; i < params.size(); i++) {
      const Param& p = params[i];
      const float* data = part == 0 ? p.value.data() : part == 1 ? adam.m[i].data() : adam.v[i].data();
      const size_t n = part == 0 ? p.value.size() : part == 1 ? adam.m[i].size() : adam.v[i].size();
      if (n != (size_t)p.size())
        return PD_ERROR(Internal, "%s: %s has %zu values for shape [%lld, %lld]", path.c_str(), p.name.c_str(), n,
                        (long long)p.rows, (long long)p.cols);
      const std::string name = (prefixes[part] ? *prefixes[part] : std::string()) + p.name;
      hash_tensor(&h, name, p.rows, p.cols, data);
      entries.push_back({name, "F32", {p.rows, p.cols}, data, (uint64_t)n * sizeof(float)});
    }
  md.push_back({"checksum", h.hex()});
  return write_safetensors(path, entries, md);
}

Status read_train_checkpoint(const std::string& path, TrainerConfig* config, ParamSet* params,
                             std::string* extra_json, TrainCheckpointMeta* meta, AdamWState* adam) {
  const char* p = path.c_str();
  std::shared_ptr<MappedFile> file;
  PD_TRY(MappedFile::open(path, &file));
  SafetensorsFile st;
  Status parsed = safetensors_parse(file, &st);
  if (!parsed.ok())  // a truncated file fails here: say it is a damaged checkpoint, whatever the reason
    return PD_ERROR(BadModelFile, "%s: not a readable training checkpoint (%s)", p, parsed.message().c_str());

  const std::string* format = find_meta(st, "format");
  if (!format || *format != kFormat) return PD_ERROR(BadModelFile, "%s: not a Paddock training checkpoint", p);
  Checksum h;
  for (const char* key : kHashedKeys) {
    const std::string* v = find_meta(st, key);
    if (!v) return PD_ERROR(BadModelFile, "%s: training checkpoint metadata lacks '%s'", p, key);
    h.add(std::string(key) + "=" + *v);
  }
  const std::string version = *find_meta(st, "format_version");
  if (version != std::to_string(kTrainCheckpointVersion))
    return PD_ERROR(BadModelFile, "%s: training checkpoint format version %s, this build reads version %d", p,
                    version.c_str(), kTrainCheckpointVersion);

  TrainCheckpointMeta m;
  if (!parse_i64(*find_meta(st, "steps_done"), &m.steps_done) || !parse_i64(*find_meta(st, "adam_t"), &m.adam_t))
    return PD_ERROR(BadModelFile, "%s: bad step counters in the training checkpoint", p);
  PD_TRY(trainer_config_from_json(*find_meta(st, "config"), path, &m.config));
  Json base, names;
  if (!parse_json(*find_meta(st, "base_model"), &base) || base.kind != Json::Obj ||
      !parse_json(*find_meta(st, "params"), &names) || names.kind != Json::Arr)
    return PD_ERROR(BadModelFile, "%s: malformed base_model or params in the training checkpoint", p);
  m.base.path = base.str("path");
  m.base.file_bytes = (uint64_t)base.num("file_bytes", 0);
  m.base.parameter_count = (uint64_t)base.num("parameter_count", 0);
  m.extra_json = *find_meta(st, "extra_json");
  if (st.tensors.size() != 3 * names.a.size())
    return PD_ERROR(BadModelFile, "%s: %zu tensors for %zu parameters (expected values, adamw.m and adamw.v of each)",
                    p, st.tensors.size(), names.a.size());

  ParamSet ps;
  AdamWState moments;
  moments.m.resize(names.a.size());
  moments.v.resize(names.a.size());
  moments.t = m.adam_t;
  for (int part = 0; part < 3; part++)
    for (size_t i = 0; i < names.a.size(); i++) {
      const std::string& pname = names.a[i].s;
      const std::string name = (part == 1 ? kMomentM : part == 2 ? kMomentV : std::string()) + pname;
      const SafetensorsTensor* t = st.find(name);
      if (!t) return PD_ERROR(BadModelFile, "%s: tensor %s is missing", p, name.c_str());
      if (t->dtype != "F32" || t->shape.size() != 2)
        return PD_ERROR(BadModelFile, "%s: tensor %s should be a 2-D F32 matrix, found %s with %zu dimensions", p,
                        name.c_str(), t->dtype.c_str(), t->shape.size());
      if (part == 0) {
        ps.add(pname, t->shape[0], t->shape[1]);
      } else if (t->shape[0] != ps[i].rows || t->shape[1] != ps[i].cols) {
        return PD_ERROR(BadModelFile, "%s: tensor %s has shape [%lld, %lld], its parameter [%lld, %lld]", p,
                        name.c_str(), (long long)t->shape[0], (long long)t->shape[1], (long long)ps[i].rows,
                        (long long)ps[i].cols);
      }
      std::vector<float>& dst = part == 0 ? ps[i].value : part == 1 ? moments.m[i] : moments.v[i];
      dst.resize((size_t)ps[i].size());
      std::memcpy(dst.data(), t->data, dst.size() * sizeof(float));
      hash_tensor(&h, name, ps[i].rows, ps[i].cols, dst.data());
    }
  const std::string* sum = find_meta(st, "checksum");
  if (!sum || *sum != h.hex())
    return PD_ERROR(BadModelFile, "%s: training checkpoint is damaged (checksum %s, contents hash to %s)", p,
                    sum ? sum->c_str() : "missing", h.hex().c_str());

  if (config) *config = m.config;
  if (params) *params = std::move(ps);
  if (extra_json) *extra_json = m.extra_json;
  if (adam) *adam = std::move(moments);
  if (meta) *meta = std::move(m);
  return Status();
}

}  // namespace paddock
