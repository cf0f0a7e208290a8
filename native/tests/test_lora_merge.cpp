// LoRA at inference and merged exports, on stories260K (a trained model: real activations) with
// synthetic adapters whose A and B are random and nonzero:
//  - merged == unmerged: logits of base + adapter through the context's adapter stack equal the
//    logits of the merged F32 GGUF within 1e-5 of the logits' range (max |a - b| / max |b|).
//    Both are float: W x + s B (A x) and (W + s B A) x differ by rounding only, ~1e-7 per
//    matrix; 1e-5 leaves room for five layers of it. The adapter moves logits by far more
//    (checked: > 1e-2), so the comparison is not between two copies of the base.
//  - scale 0 and detaching give the base's logits bit for bit; switching adapters on a loaded
//    context and back gives the first adapter's logits bit for bit; two adapters at once equal
//    the first merged into the base plus the second attached (1e-5).
//  - full fine-tuned weights go through the same export: weights that are the merged values
//    give the LoRA-merged file's logits bit for bit.
//  - Q4_K_M: llama.cpp's per-tensor mix (Q6_K for output / tied token_embd and for attn_v /
//    ffn_down in use_more_bits layers, fallbacks for rows that are not multiples of 256), on a
//    random model where K-quants fit (weights read back within the quantizers' error), and the
//    F16 / Q8_0 / Q4_K_M files of stories260K load and stay close to F32 (range error < 5e-2:
//    8-bit weights and activations on a 5-layer model). The Ollama Modelfile is written beside.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "backend/cpu/ops.h"
#include "io/gguf.h"
#include "io/mapped_file.h"
#include "io/model_export.h"
#include "io/model_loader.h"
#include "model/llama_context.h"
#include "model/lora_merge.h"
#include "model/lora_stack.h"
#include "synthetic_model.h"
#include "stories260k.h"
#include "testing.h"

using namespace paddock;

static std::shared_ptr<Model> g_base;

static std::vector<int32_t> prompt() {
  std::vector<int32_t> t = {1};
  for (int i = 0; i < 23; i++) t.push_back((int32_t)((i * 37 + 11) % 500) + 3);
  return t;
}

// Logits of every position (teacher-forced, one decode per token) with `adapters` attached.
static std::vector<float> logits_of(std::shared_ptr<const Model> m, std::vector<LoraStackEntry> adapters = {}) {
  std::unique_ptr<LlamaContext> ctx;
  std::vector<float> all, one;
  CHECK_OK(LlamaContext::create(m, 64, 2, &ctx, KvType::F32));
  if (!ctx) return all;
  CHECK_OK(ctx->set_adapters(std::move(adapters)));
  for (int32_t t : prompt()) {
    CHECK_OK(ctx->decode(&t, 1, &one));
    all.insert(all.end(), one.begin(), one.end());
  }
  return all;
}

static double range_err(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0, mag = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); i++) {
    d = std::max(d, (double)std::fabs(a[i] - b[i]));
    mag = std::max(mag, (double)std::fabs(b[i]));
  }
  return a.size() == b.size() && !a.empty() ? d / (mag + 1e-30) : 1e30;
}

static std::shared_ptr<LoraAdapter> random_adapter(uint64_t seed, int rank, float alpha, uint32_t targets) {
  LoraConfig lc;
  lc.rank = rank;
  lc.alpha = alpha;
  lc.targets = targets;
  ParamSet ps;
  CHECK_OK(lora_create_random(g_base->config, lc, seed, 0.2f, &ps));
  std::shared_ptr<LoraAdapter> a;
  CHECK_OK(lora_adapter_from_params(*g_base, lc, std::move(ps), "random adapter", &a));
  return a;
}

static std::shared_ptr<Model> load(const std::string& path) {
  std::shared_ptr<Model> m;
  CHECK_OK(load_model(path, LoadOptions(), &m));
  return m;
}

static void test_merged_equals_unmerged(const std::vector<float>& base) {
  auto a = random_adapter(7, 4, 8.0f, kAllLoraTargets);
  const std::vector<float> unmerged = logits_of(g_base, {{a, 1.0f}});
  const std::string path = "/tmp/paddock-test-lora-merged-f32.gguf";
  CHECK_OK(export_merged_gguf(*g_base, &a->config, &a->params, nullptr, "f32", path));
  auto merged = load(path);
  if (!merged) return;
  const std::vector<float> ml = logits_of(merged);
  const double err = range_err(unmerged, ml), moved = range_err(unmerged, base);
  std::printf("merged vs unmerged: %.3g of the logits' range; the adapter moves logits by %.3g\n", err, moved);
  CHECK_MSG(err < 1e-5, "merged vs unmerged %.3g", err);
  CHECK_MSG(moved > 1e-2, "the adapter barely changes the logits (%.3g): the test would prove nothing", moved);

  // Full weights equal to the merged values: the same file, so the same logits bit for bit.
  ParamSet full;
  for_each_weight(g_base->weights, [&](const Tensor& t) {
    int64_t layer = -1;
    int target = -1;
    for (int64_t l = 0; l < g_base->config.n_layers && target < 0; l++)
      for (int i = 0; i < kLoraTargetCount; i++)
        if (t.name == "blk." + std::to_string(l) + "." + lora_target_gguf((LoraTarget)i) + ".weight") layer = l, target = i;
    if (target < 0) return;
    Param& p = full.add(t.name, t.nrows(), t.ne[0]);
    const LoraWeights::Pair& pr = a->weights.layers[(size_t)layer][(size_t)target];
    for (int64_t r = 0; r < p.rows; r++) {
      get_row_f32(t, r, p.value.data() + r * p.cols);
      lora_merge_row(*pr.a, *pr.b, a->config.scale(), r, p.value.data() + r * p.cols);
    }
  });
  CHECK(full.size() == (size_t)(7 * g_base->config.n_layers));
  const std::string full_path = "/tmp/paddock-test-full-merged-f32.gguf";
  CHECK_OK(export_merged_gguf(*g_base, nullptr, nullptr, &full, "f32", full_path));
  auto fm = load(full_path);
  if (fm) CHECK(logits_of(fm) == ml);
  // Either an adapter or full weights, never both or neither.
  CHECK(export_merged_gguf(*g_base, &a->config, &a->params, &full, "f32", full_path).code() == ErrorCode::InvalidArgument);
  CHECK(export_merged_gguf(*g_base, nullptr, nullptr, nullptr, "f32", full_path).code() == ErrorCode::InvalidArgument);
  CHECK(export_merged_gguf(*g_base, &a->config, &a->params, nullptr, "q3_k", full_path).code() ==
        ErrorCode::InvalidArgument);

  // Two adapters at once = the first merged, the second attached.
  auto b = random_adapter(8, 2, 2.0f, (1u << (int)LoraTarget::V) | (1u << (int)LoraTarget::Down));
  const std::vector<float> both = logits_of(g_base, {{a, 1.0f}, {b, 0.5f}});
  const std::vector<float> ref = logits_of(merged, {{b, 0.5f}});
  CHECK_MSG(range_err(both, ref) < 1e-5, "two adapters vs merged + attached %.3g", range_err(both, ref));

  // The Modelfile beside: FROM the file; stories260K has no template, so ChatML as plain text.
  std::string mf;
  CHECK_OK(read_file(modelfile_path_for(path), &mf));
  CHECK(modelfile_path_for(path) == "/tmp/paddock-test-lora-merged-f32.Modelfile");
  CHECK(mf.rfind("FROM ./paddock-test-lora-merged-f32.gguf\n", 0) == 0);
  CHECK(mf.find("TEMPLATE \"\"\"") != std::string::npos && mf.find("PARAMETER stop \"<|im_end|>\"") != std::string::npos);
  // With a chat template: Ollama's Go form for a known family, FROM alone for an unknown one.
  Model chat;
  chat.metadata.push_back({"tokenizer.chat_template", MetaValue{MetaValue::String, 0, "{{ '<|start_header_id|>' + role }}"}});
  const std::string l3 = ollama_modelfile(chat, "dir/x.gguf");
  CHECK(l3.rfind("FROM ./x.gguf\nTEMPLATE", 0) == 0 && l3.find("PARAMETER stop \"<|eot_id|>\"") != std::string::npos);
  chat.metadata[0].second.string = "{{ messages }}";
  CHECK(ollama_modelfile(chat, "x.gguf") == "FROM ./x.gguf\n");
  CHECK(modelfile_path_for("a.b/model") == "a.b/model.Modelfile");
  for (const std::string& p : {path, full_path, modelfile_path_for(path), modelfile_path_for(full_path)})
    std::remove(p.c_str());
}

static void test_switching(const std::vector<float>& base) {
  auto a = random_adapter(11, 4, 4.0f, kAllLoraTargets);
  auto b = random_adapter(12, 8, 16.0f, (1u << (int)LoraTarget::Q) | (1u << (int)LoraTarget::O));
  CHECK(logits_of(g_base, {{a, 0.0f}, {b, 0.0f}}) == base);  // scale 0: exactly the base

  std::unique_ptr<LlamaContext> ctx;
  CHECK_OK(LlamaContext::create(g_base, 64, 2, &ctx, KvType::F32));
  if (!ctx) return;
  auto last_logits = [&]() {
    std::vector<float> out;
    const std::vector<int32_t> p = prompt();
    CHECK_OK(ctx->decode(p.data(), (int64_t)p.size(), &out));
    return out;
  };
  const std::vector<float> plain = last_logits();
  CHECK_OK(ctx->set_adapters({{a, 1.0f}}));
  CHECK(ctx->position() == 0);  // the cache held the old set's keys
  const std::vector<float> with_a = last_logits();
  CHECK_OK(ctx->set_adapters({{b, 1.0f}}));
  const std::vector<float> with_b = last_logits();
  CHECK_OK(ctx->set_adapters({{a, 1.0f}}));
  CHECK(last_logits() == with_a);
  CHECK_OK(ctx->set_adapters({{a, 2.0f}}));
  const std::vector<float> with_2a = last_logits();
  CHECK_OK(ctx->set_adapters({}));
  CHECK(last_logits() == plain);
  CHECK(with_a != plain && with_b != plain && with_a != with_b && with_2a != with_a);
  // A prefill chunk through the adapters equals token-by-token decoding (the GEMM path vs the
  // single-token one: summation order only).
  const std::vector<float> seq = logits_of(g_base, {{a, 1.0f}});
  const std::vector<float> last(seq.end() - (long)with_a.size(), seq.end());
  CHECK_MSG(range_err(with_a, last) < 1e-5, "prefill vs token by token with an adapter: %.3g", range_err(with_a, last));

  // Scale 2 = the same adapter with alpha doubled (one multiply apart: rounding only).
  ParamSet copy;
  for (const Param& p : a->params) copy.add(p.name, p.rows, p.cols).value = p.value;
  LoraConfig lc2 = a->config;
  lc2.alpha *= 2;
  std::shared_ptr<LoraAdapter> a2;
  CHECK_OK(lora_adapter_from_params(*g_base, lc2, std::move(copy), "alpha x2", &a2));
  CHECK_OK(ctx->set_adapters({{a2, 1.0f}}));
  CHECK(range_err(last_logits(), with_2a) < 1e-6);

  // An adapter bound for another shape is refused and leaves the context as it was.
  LlamaConfig other = g_base->config;
  other.n_layers -= 1;
  LoraConfig lc;
  ParamSet ps;
  CHECK_OK(lora_create_random(other, lc, 1, 0.1f, &ps));
  auto small = std::make_shared<LoraAdapter>();
  small->config = lc;
  small->params = std::move(ps);
  CHECK_OK(lora_bind(other, lc, &small->params, "other shape", &small->weights));
  CHECK(ctx->set_adapters({{small, 1.0f}}).code() == ErrorCode::InvalidArgument);
  CHECK(ctx->set_adapters({{a, NAN}}).code() == ErrorCode::InvalidArgument);
  CHECK(ctx->adapters().size() == 1 && ctx->adapters()[0].adapter == a2);
}

static void test_q4_k_m_rule() {
  // A model shaped so every matrix takes K-quants: 8 layers, rows of 256 (use_more_bits(i, 8):
  // layers 0, 3, 6, 7).
  Model m;
  m.config.n_layers = 8;
  auto type_of = [&](const std::string& name, int64_t ne0, bool tied) {
    m.weights.output = Tensor();
    if (!tied) m.weights.output = make_tensor("output.weight", DType::F32, &m, 256, 4);
    const Tensor t = make_tensor(name, DType::F32, &m, ne0, 4);
    return export_tensor_type(m, t, DType::Q4_K);
  };
  CHECK(type_of("output.weight", 256, false) == DType::Q6_K);
  CHECK(type_of("token_embd.weight", 256, false) == DType::Q4_K);
  CHECK(type_of("token_embd.weight", 256, true) == DType::Q6_K);
  const DType want[8] = {DType::Q6_K, DType::Q4_K, DType::Q4_K, DType::Q6_K,
                         DType::Q4_K, DType::Q4_K, DType::Q6_K, DType::Q6_K};
  for (int l = 0; l < 8; l++) {
    const std::string blk = "blk." + std::to_string(l) + ".";
    CHECK_MSG(type_of(blk + "attn_v.weight", 256, true) == want[l], "attn_v layer %d", l);
    CHECK_MSG(type_of(blk + "ffn_down.weight", 256, true) == want[l], "ffn_down layer %d", l);
    for (const char* other : {"attn_q", "attn_k", "attn_output", "ffn_gate", "ffn_up"})
      CHECK(type_of(blk + other + ".weight", 256, true) == DType::Q4_K);
  }
  // Fallbacks: K-quants need rows of 256; Q8_0 for rows of 32s, F16 otherwise.
  CHECK(type_of("blk.1.attn_q.weight", 64, true) == DType::Q8_0);
  CHECK(type_of("blk.0.attn_v.weight", 64, true) == DType::Q8_0);
  CHECK(type_of("blk.1.ffn_down.weight", 172, true) == DType::F16);
  CHECK(export_tensor_type(m, make_tensor("blk.0.attn_norm.weight", DType::F32, &m, 256), DType::Q4_K) == DType::F32);
}

static void test_quantized_merges() {
  auto a = random_adapter(21, 4, 8.0f, kAllLoraTargets);
  const std::vector<float> ref = logits_of(g_base, {{a, 1.0f}});
  for (const char* type : {"f16", "q8_0", "q4_k_m"}) {
    const std::string path = std::string("/tmp/paddock-test-lora-merged-") + type + ".gguf";
    CHECK_OK(export_merged_gguf(*g_base, &a->config, &a->params, nullptr, type, path));
    std::shared_ptr<MappedFile> f;
    CHECK_OK(MappedFile::open(path, &f));
    GgufFile g;
    if (f) CHECK_OK(gguf_parse(f->data(), f->size(), path, &g));
    uint64_t file_type = 0;
    bool found = false;
    CHECK_OK(g.get_u64("general.file_type", &file_type, &found));
    CHECK(found && file_type == (std::string(type) == "f16" ? 1u : std::string(type) == "q8_0" ? 7u : 15u));
    if (std::string(type) == "q4_k_m") {
      // stories260K: rows of 64 and 172, so no K-quant fits: Q8_0 and F16 as llama.cpp falls back.
      const GgufTensorInfo* q = g.find_tensor("blk.0.attn_q.weight");
      const GgufTensorInfo* d = g.find_tensor("blk.0.ffn_down.weight");
      CHECK(q && q->type == DType::Q8_0);
      CHECK(d && d->type == DType::F16);
    }
    f.reset();
    auto m = load(path);
    if (m) {
      const double err = range_err(logits_of(m), ref);
      std::printf("merged %s vs unmerged F32: %.3g of the logits' range\n", type, err);
      CHECK_MSG(err < 5e-2, "%s: %.3g", type, err);
    }
    std::remove(path.c_str());
    std::remove(modelfile_path_for(path).c_str());
  }
}

// Q4_K_M where K-quants fit: a random model with rows of 256 and 512 (8 layers, so
// use_more_bits picks layers 0, 3, 6, 7). The merged file holds the mix, and its weights read
// back (get_row_f32) within Q4_K's / Q6_K's error of the exact merged F32 rows: relative RMS
// < 0.1 / 0.03 (ggml's Q4_K gives ~0.07 on Gaussian rows, Q6_K ~0.02; see test_quant.cpp).
static void test_q4_k_m_on_k_quant_shapes() {
  pdtest::SyntheticModel syn;
  syn.dim = 256, syn.hidden = 512, syn.layers = 8, syn.heads = 4, syn.kv_heads = 2;
  GgufWriter w;
  syn.fill(w);
  const std::string src = "/tmp/paddock-test-lora-kq-base.gguf", out = "/tmp/paddock-test-lora-kq-merged.gguf";
  CHECK_OK(w.write_file(src));
  auto base = load(src);
  if (!base) return;
  LoraConfig lc;
  lc.rank = 4;
  ParamSet ps;
  CHECK_OK(lora_create_random(base->config, lc, 5, 0.2f, &ps));
  CHECK_OK(export_merged_gguf(*base, &lc, &ps, nullptr, "q4_k_m", out));
  auto merged = load(out);
  if (!merged) return;
  std::shared_ptr<LoraAdapter> a;
  CHECK_OK(lora_adapter_from_params(*base, lc, std::move(ps), "random", &a));
  auto check = [&](const Tensor& exact, const Tensor& q, DType want, double bound, const LoraWeights::Pair* pair) {
    CHECK_MSG(q.type == want, "%s is %s, expected %s", q.name.c_str(), dtype_name(q.type), dtype_name(want));
    std::vector<float> e((size_t)exact.ne[0]), r((size_t)exact.ne[0]);
    double err = 0, mag = 0;
    for (int64_t row = 0; row < exact.nrows(); row++) {
      get_row_f32(exact, row, e.data());
      if (pair) lora_merge_row(*pair->a, *pair->b, lc.scale(), row, e.data());
      get_row_f32(q, row, r.data());
      for (size_t i = 0; i < e.size(); i++) err += (e[i] - r[i]) * (e[i] - r[i]), mag += e[i] * e[i];
    }
    const double rel = std::sqrt(err / mag);
    CHECK_MSG(rel < bound, "%s: relative RMS error %.3g", q.name.c_str(), rel);
  };
  check(base->weights.tok_embd, merged->weights.tok_embd, DType::Q6_K, 0.03, nullptr);  // tied: the classifier
  const bool more_bits[8] = {true, false, false, true, false, false, true, true};
  for (int l = 0; l < 8; l++) {
    const LlamaLayer& B = base->weights.layers[(size_t)l];
    const LlamaLayer& M = merged->weights.layers[(size_t)l];
    const auto& pairs = a->weights.layers[(size_t)l];
    const DType vd = more_bits[l] ? DType::Q6_K : DType::Q4_K;
    const double vb = more_bits[l] ? 0.03 : 0.1;
    check(B.wq, M.wq, DType::Q4_K, 0.1, &pairs[(size_t)LoraTarget::Q]);
    check(B.wk, M.wk, DType::Q4_K, 0.1, &pairs[(size_t)LoraTarget::K]);
    check(B.wv, M.wv, vd, vb, &pairs[(size_t)LoraTarget::V]);
    check(B.wo, M.wo, DType::Q4_K, 0.1, &pairs[(size_t)LoraTarget::O]);
    check(B.w_gate, M.w_gate, DType::Q4_K, 0.1, &pairs[(size_t)LoraTarget::Gate]);
    check(B.w_up, M.w_up, DType::Q4_K, 0.1, &pairs[(size_t)LoraTarget::Up]);
    check(B.w_down, M.w_down, vd, vb, &pairs[(size_t)LoraTarget::Down]);
    CHECK(M.attn_norm.type == DType::F32 && M.ffn_norm.type == DType::F32);
  }
  std::remove(src.c_str());
  std::remove(out.c_str());
  std::remove(modelfile_path_for(out).c_str());
}

int main(int argc, char** argv) {
  const std::string dir = pdtest::stories260k_dir(argc, argv);
  if (!pdtest::stories260k_present(dir)) return pdtest::kSkip;
  g_base = pdtest::load_stories260k(dir);
  if (!g_base) return pdtest::finish("test_lora_merge");
  const std::vector<float> base = logits_of(g_base);
  test_merged_equals_unmerged(base);
  test_switching(base);
  test_q4_k_m_rule();
  test_q4_k_m_on_k_quant_shapes();
  test_quantized_merges();
  return pdtest::finish("test_lora_merge");
}
