// Adapter files for stories260K (5 layers, dim 64, 8 heads, 4 kv heads, ffn 172), with a random
// adapter (A and B nonzero):
//
// GGUF LoRA, llama.cpp's convention (llama-adapter.cpp): general.architecture "llama",
// general.type "adapter", adapter.type "lora", adapter.lora.alpha of GGUF type FLOAT32; per
// adapted matrix "blk.N.<attn_q|...|ffn_down>.weight.lora_a" with ne [n_in, r] and ".lora_b" with
// ne [r, n_out]; nothing else (no norm tensors). Read back: the same values bit for bit.
//
// PEFT (what peft.PeftModel.from_pretrained reads): a folder holding exactly
//   adapter_config.json: peft_type "LORA", r, lora_alpha, lora_dropout, target_modules (module
//     leaf names "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"),
//     bias "none", task_type "CAUSAL_LM", fan_in_fan_out false, inference_mode true,
//     base_model_name_or_path, use_dora false, use_rslora false;
//   adapter_model.safetensors: metadata {"format": "pt"}, keys
//     "base_model.model.model.layers.{i}.self_attn.{q,k,v,o}_proj.lora_A.weight" shape [r, in],
//     "....lora_B.weight" shape [out, r], mlp.{gate,up,down}_proj likewise, dtype F32.
//   q/k lora_B rows are in HF's rotate-half order: HF row h*hd + j*hd/2 + i holds Paddock row
//   h*hd + 2i + j (k over n_kv_heads), checked here element by element with that formula.
// Round trip through load_adapter_file: identical tensors, identical logits.
// Bad inputs: wrong general.type, another architecture, a shape that does not fit the base,
// PEFT with DoRA: coded errors naming the file.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

#include "io/adapter_gguf.h"
#include "io/atomic_file.h"
#include "io/adapter_peft.h"
#include "io/gguf.h"
#include "io/gguf_writer.h"
#include "io/json_reader.h"
#include "io/mapped_file.h"
#include "io/model_loader.h"
#include "io/safetensors.h"
#include "model/llama_context.h"
#include "model/lora_stack.h"
#include "stories260k.h"
#include "testing.h"

using namespace paddock;

static std::shared_ptr<Model> g_base;
static const std::string kTmp = "/tmp/paddock-test-adapter-files";

static bool same_params(const ParamSet& a, const ParamSet& b) {
  if (a.size() != b.size()) return false;
  for (const Param& p : a) {
    const Param* q = b.find(p.name);
    if (!q || q->rows != p.rows || q->cols != p.cols || q->value != p.value) return false;
  }
  return true;
}

static std::vector<float> logits_with(const ParamSet& ps, const LoraConfig& lc) {
  ParamSet copy;
  for (const Param& p : ps) copy.add(p.name, p.rows, p.cols).value = p.value;
  std::shared_ptr<LoraAdapter> a;
  CHECK_OK(lora_adapter_from_params(*g_base, lc, std::move(copy), "adapter", &a));
  std::unique_ptr<LlamaContext> ctx;
  std::vector<float> out;
  CHECK_OK(LlamaContext::create(g_base, 32, 1, &ctx, KvType::F32));
  if (!ctx || !a) return out;
  CHECK_OK(ctx->set_adapters({{a, 1.0f}}));
  const int32_t toks[6] = {1, 403, 261, 378, 306, 275};
  CHECK_OK(ctx->decode(toks, 6, &out));
  return out;
}

static void test_gguf(const LoraConfig& lc, const ParamSet& ps) {
  const LlamaConfig& c = g_base->config;
  const std::string path = kTmp + "/adapter.gguf";
  CHECK_OK(export_adapter_gguf(*g_base, lc, ps, path));
  std::shared_ptr<MappedFile> f;
  CHECK_OK(MappedFile::open(path, &f));
  if (!f) return;
  GgufFile g;
  CHECK_OK(gguf_parse(f->data(), f->size(), path, &g));
  auto str = [&](const char* key) {
    const GgufKV* kv = g.find(key);
    return kv && kv->type == GgufType::STRING ? kv->str : std::string("(missing)");
  };
  CHECK(str("general.architecture") == "llama");
  CHECK(str("general.type") == "adapter");
  CHECK(str("adapter.type") == "lora");
  const GgufKV* alpha = g.find("adapter.lora.alpha");
  CHECK(alpha && alpha->type == GgufType::FLOAT32 && alpha->f == (double)lc.alpha);
  int n_targets = 0;
  for (int t = 0; t < kLoraTargetCount; t++) n_targets += lc.targets_has((LoraTarget)t);
  CHECK(g.tensors.size() == (size_t)(2 * c.n_layers * n_targets));
  for (int64_t l = 0; l < c.n_layers; l++) {
    for (int t = 0; t < kLoraTargetCount; t++) {
      if (!lc.targets_has((LoraTarget)t)) continue;
      int64_t n_in = 0, n_out = 0;
      lora_target_shape(c, (LoraTarget)t, &n_in, &n_out);
      const std::string base = "blk." + std::to_string(l) + "." + lora_target_gguf((LoraTarget)t) + ".weight";
      const GgufTensorInfo* a = g.find_tensor(base + ".lora_a");
      const GgufTensorInfo* b = g.find_tensor(base + ".lora_b");
      CHECK_MSG(a && a->type == DType::F32 && a->n_dims == 2 && a->ne[0] == n_in && a->ne[1] == lc.rank, "%s.lora_a", base.c_str());
      CHECK_MSG(b && b->type == DType::F32 && b->n_dims == 2 && b->ne[0] == lc.rank && b->ne[1] == n_out, "%s.lora_b", base.c_str());
    }
  }
  f.reset();

  LoraConfig back;
  ParamSet read;
  CHECK_OK(load_adapter_file(*g_base, path, &back, &read));
  CHECK(back.rank == lc.rank && back.alpha == lc.alpha && back.targets == lc.targets);
  CHECK(same_params(read, ps));

  // Bad files: each refused with BAD_MODEL_FILE naming the file.
  auto refused = [&](GgufWriter& w, const char* what) {
    const std::string bad = kTmp + "/bad.gguf";
    CHECK_OK(w.write_file(bad));
    LoraConfig x;
    ParamSet y;
    Status st = load_adapter_file(*g_base, bad, &x, &y);
    CHECK_MSG(st.code() == ErrorCode::BadModelFile && st.message().find(bad) != std::string::npos, "%s: %s", what,
              st.to_string().c_str());
  };
  const Param& a0 = *ps.find("blk.0.attn_q.weight.lora_a");
  const Param& b0 = *ps.find("blk.0.attn_q.weight.lora_b");
  auto writer = [&](const char* type, const char* arch, int64_t a_cols) {
    GgufWriter w;
    w.set_string("general.architecture", arch);
    w.set_string("general.type", type);
    w.set_string("adapter.type", "lora");
    w.set_f32("adapter.lora.alpha", 8.0f);
    w.add_tensor(a0.name, DType::F32, {a_cols, a0.rows}, a0.value.data(), DType::F32);
    w.add_tensor(b0.name, DType::F32, {b0.cols, b0.rows}, b0.value.data(), DType::F32);
    return w;
  };
  GgufWriter w1 = writer("model", "llama", a0.cols);
  refused(w1, "general.type model");
  GgufWriter w2 = writer("adapter", "qwen2", a0.cols);
  refused(w2, "architecture qwen2");
  GgufWriter w3 = writer("adapter", "llama", a0.cols / 2);
  refused(w3, "lora_a of half the width");
  // A q-only adapter with every layer but the last: llama.cpp would take it, Paddock's single
  // table wants each target in every layer.
  GgufWriter w4 = writer("adapter", "llama", a0.cols);
  refused(w4, "layers missing");

  // alpha absent: scale 1, as llama.cpp (alpha = rank).
  GgufWriter w5;
  w5.set_string("general.architecture", "llama");
  w5.set_string("general.type", "adapter");
  w5.set_string("adapter.type", "lora");
  for (const Param& p : ps) w5.add_tensor(p.name, DType::F16, {p.cols, p.rows}, p.value.data(), DType::F32);
  CHECK_OK(w5.write_file(kTmp + "/noalpha.gguf"));
  LoraConfig na;
  ParamSet nps;
  CHECK_OK(load_adapter_file(*g_base, kTmp + "/noalpha.gguf", &na, &nps));
  CHECK(na.alpha == (float)na.rank && na.rank == lc.rank);
  const Param* q = nps.find(a0.name);
  CHECK(q && std::fabs(q->value[3] - a0.value[3]) <= 1e-3f * std::fabs(a0.value[3]) + 1e-7f);  // F16 read back
}

static void test_peft(const LoraConfig& lc, const ParamSet& ps) {
  const LlamaConfig& c = g_base->config;
  const std::string dir = kTmp + "/peft";
  CHECK_OK(export_adapter_peft(*g_base, lc, ps, dir));
  // Exactly the two files PEFT writes.
  size_t n_files = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string leaf = e.path().filename().string();
    CHECK_MSG(leaf == "adapter_config.json" || leaf == "adapter_model.safetensors", "unexpected file %s", leaf.c_str());
    n_files++;
  }
  CHECK(n_files == 2);

  std::string text;
  CHECK_OK(read_file(dir + "/adapter_config.json", &text));
  Json cfg;
  CHECK(parse_json(text, &cfg));
  CHECK(cfg.str("peft_type") == "LORA");
  CHECK(cfg.num("r", 0) == lc.rank);
  CHECK(cfg.num("lora_alpha", 0) == lc.alpha);
  CHECK(std::fabs(cfg.num("lora_dropout", -1) - lc.dropout) < 1e-7);
  CHECK(cfg.str("bias") == "none");
  CHECK(cfg.str("task_type") == "CAUSAL_LM");
  CHECK(cfg.get("fan_in_fan_out") && cfg.get("fan_in_fan_out")->kind == Json::Bool && !cfg.boolean("fan_in_fan_out", true));
  CHECK(cfg.boolean("inference_mode", false));
  CHECK(!cfg.boolean("use_dora", true) && !cfg.boolean("use_rslora", true));
  CHECK(cfg.get("base_model_name_or_path") && cfg.get("base_model_name_or_path")->kind == Json::Str);
  const Json* mods = cfg.get("target_modules");
  std::vector<std::string> names;
  if (mods && mods->kind == Json::Arr)
    for (const Json& m : mods->a) names.push_back(m.s);
  CHECK((names == std::vector<std::string>{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}));

  std::shared_ptr<MappedFile> f;
  CHECK_OK(MappedFile::open(dir + "/adapter_model.safetensors", &f));
  SafetensorsFile st;
  if (f) CHECK_OK(safetensors_parse(f, &st));
  CHECK(st.tensors.size() == ps.size());
  bool format_pt = false;
  for (const auto& kv : st.metadata) format_pt |= kv.first == "format" && kv.second == "pt";
  CHECK(format_pt);
  const char* modules[kLoraTargetCount] = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                                           "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"};
  const int64_t hd = c.head_dim();
  for (int64_t l = 0; l < c.n_layers; l++) {
    for (int t = 0; t < kLoraTargetCount; t++) {
      int64_t n_in = 0, n_out = 0;
      lora_target_shape(c, (LoraTarget)t, &n_in, &n_out);
      const std::string key = "base_model.model.model.layers." + std::to_string(l) + "." + modules[t];
      const SafetensorsTensor* A = st.find(key + ".lora_A.weight");
      const SafetensorsTensor* B = st.find(key + ".lora_B.weight");
      CHECK_MSG(A && A->dtype == "F32" && A->shape == (std::vector<int64_t>{lc.rank, n_in}), "%s.lora_A", key.c_str());
      CHECK_MSG(B && B->dtype == "F32" && B->shape == (std::vector<int64_t>{n_out, lc.rank}), "%s.lora_B", key.c_str());
      if (!A || !B) continue;
      const std::string gg = "blk." + std::to_string(l) + "." + lora_target_gguf((LoraTarget)t) + ".weight";
      const Param* pa = ps.find(gg + ".lora_a");
      const Param* pb = ps.find(gg + ".lora_b");
      CHECK(std::memcmp(A->data, pa->value.data(), A->nbytes) == 0);  // A is never permuted
      const float* hb = (const float*)B->data;
      const int64_t heads = t == 0 ? c.n_heads : t == 1 ? c.n_kv_heads : 0;
      bool ok = true;
      for (int64_t r = 0; r < n_out; r++) {
        int64_t src = r;  // Paddock row that HF row r holds
        if (heads) {
          const int64_t h = r / hd, w = r % hd, j = w / (hd / 2), i = w % (hd / 2);
          src = h * hd + 2 * i + j;
        }
        for (int64_t k = 0; k < lc.rank; k++) ok &= hb[r * lc.rank + k] == pb->value[(size_t)(src * lc.rank + k)];
      }
      CHECK_MSG(ok, "%s.lora_B rows", key.c_str());
    }
  }
  f.reset();

  LoraConfig back;
  ParamSet read;
  CHECK_OK(load_adapter_file(*g_base, dir, &back, &read));
  CHECK(back.rank == lc.rank && back.alpha == lc.alpha && back.targets == lc.targets);
  CHECK(same_params(read, ps));
  CHECK(logits_with(read, back) == logits_with(ps, lc));
  LoraConfig via_file;
  ParamSet read2;
  CHECK_OK(load_adapter_file(*g_base, dir + "/adapter_model.safetensors", &via_file, &read2));
  CHECK(same_params(read2, ps));

  // DoRA is a different method: refused, not misread.
  std::string dora = text;
  const size_t pos = dora.find("\"use_dora\": false");
  CHECK(pos != std::string::npos);
  if (pos != std::string::npos) dora.replace(pos, 17, "\"use_dora\": true");
  CHECK_OK(write_text_file(dir + "/adapter_config.json", dora));
  CHECK(load_adapter_file(*g_base, dir, &back, &read).code() == ErrorCode::Unsupported);
}

int main(int argc, char** argv) {
  const std::string dir = pdtest::stories260k_dir(argc, argv);
  if (!pdtest::stories260k_present(dir)) return pdtest::kSkip;
  g_base = pdtest::load_stories260k(dir);
  if (!g_base) return pdtest::finish("test_adapter_files");
  std::error_code ec;
  std::filesystem::remove_all(kTmp, ec);
  std::filesystem::create_directories(kTmp, ec);

  LoraConfig lc;
  lc.rank = 4;
  lc.alpha = 8.0f;
  lc.dropout = 0.05f;
  ParamSet ps;
  CHECK_OK(lora_create_random(g_base->config, lc, 3, 0.2f, &ps));
  test_gguf(lc, ps);
  test_peft(lc, ps);
  // The adapter for a different shape: refused by name.
  LoraConfig few = lc;
  few.targets = 1u << (int)LoraTarget::Q;
  ParamSet small;
  LlamaConfig other = g_base->config;
  other.dim = 32;
  CHECK_OK(lora_create_random(other, few, 1, 0.1f, &small));
  Status st = export_adapter_gguf(*g_base, few, small, kTmp + "/x.gguf");
  CHECK_MSG(st.code() == ErrorCode::BadModelFile && st.message().find("blk.0.attn_q.weight.lora_a") != std::string::npos,
            "%s", st.to_string().c_str());
  std::filesystem::remove_all(kTmp, ec);
  return pdtest::finish("test_adapter_files");
}
