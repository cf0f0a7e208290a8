// The KV cache and what rides on it, on synthetic random-weight models (no test data needed):
// prefill + decode equals a token-by-token forward (1e-5 relative with an F32 cache; with the
// default F16 cache 2e-3 of the logits' range, the cost of rounding K/V to 11 bits), results
// independent of the thread count, the context shift (equal to a fresh forward over the shifted
// sequence on a one-layer model, where a cached row depends only on its token and position),
// and RoPE "linear" scaling read from GGUF.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "backend/cpu/ops.h"
#include "io/gguf_writer.h"
#include "io/model_loader.h"
#include "model/llama_context.h"
#include "synthetic_model.h"
#include "testing.h"

using namespace paddock;

struct Extra {
  std::string scaling_type;
  float scaling_factor = 0.0f;  // 0: key absent
};

static std::shared_ptr<Model> synthetic(int layers, const char* file, const Extra& extra = Extra()) {
  pdtest::SyntheticModel syn;
  syn.layers = layers;
  syn.ctx = 128;
  GgufWriter w;
  syn.fill(w);
  if (!extra.scaling_type.empty()) w.set_string("llama.rope.scaling.type", extra.scaling_type);
  if (extra.scaling_factor != 0.0f) w.set_f32("llama.rope.scaling.factor", extra.scaling_factor);
  std::shared_ptr<Model> m;
  CHECK_OK(w.write_file(file));
  CHECK_OK(load_model(file, LoadOptions(), &m));
  std::remove(file);
  return m;
}

static std::vector<int32_t> sequence(size_t n, int vocab) {
  std::vector<int32_t> s(n);
  for (size_t i = 0; i < n; i++) s[i] = (int32_t)((i * 7919 + 3) % (size_t)vocab);
  return s;
}

// max |a - b| / max |b|: logits are compared against their own range.
static double range_err(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0, mag = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); i++) {
    d = std::max(d, (double)std::fabs(a[i] - b[i]));
    mag = std::max(mag, (double)std::fabs(b[i]));
  }
  return a.size() == b.size() ? d / (mag + 1e-30) : 1e30;
}

static double max_rel(const std::vector<float>& a, const std::vector<float>& b) {
  double r = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); i++)
    r = std::max(r, (double)std::fabs(a[i] - b[i]) / (std::fabs(b[i]) + 1e-3));
  return a.size() == b.size() ? r : 1e30;
}

static std::vector<float> run(std::shared_ptr<Model> m, KvType type, int threads, const std::vector<int32_t>& seq,
                              bool batched) {
  std::unique_ptr<LlamaContext> ctx;
  std::vector<float> logits;
  CHECK_OK(LlamaContext::create(m, 128, threads, &ctx, type));
  if (!ctx) return logits;
  if (batched) {
    CHECK_OK(ctx->decode(seq.data(), (int64_t)seq.size(), &logits));
  } else {
    for (int32_t t : seq) CHECK_OK(ctx->decode(&t, 1, &logits));
  }
  return logits;
}

static void test_prefill_equals_sequential(std::shared_ptr<Model> m) {
  const std::vector<int32_t> seq = sequence(40, (int)m->config.vocab_size);
  // F32 cache: prefill (GEMM) and decode (matvec) compute each output identically
  const std::vector<float> a = run(m, KvType::F32, 2, seq, true), b = run(m, KvType::F32, 2, seq, false);
  CHECK_MSG(max_rel(a, b) <= 1e-5, "F32 cache: prefill vs sequential max rel diff %g", max_rel(a, b));
  // F16 cache: the same cache contents either way, so also equal; and close to the F32 cache
  const std::vector<float> c = run(m, KvType::F16, 2, seq, true), d = run(m, KvType::F16, 2, seq, false);
  CHECK_MSG(max_rel(c, d) <= 1e-5, "F16 cache: prefill vs sequential max rel diff %g", max_rel(c, d));
  CHECK_MSG(range_err(c, a) <= 2e-3, "F16 vs F32 cache: diff %g of the logits' range", range_err(c, a));
  CHECK_MSG(range_err(c, a) > 0, "F16 and F32 caches gave identical logits: is the F16 cache in use?");
  // thread count never changes a bit
  for (KvType type : {KvType::F16, KvType::F32}) {
    const std::vector<float> one = run(m, type, 1, seq, true), three = run(m, type, 3, seq, true);
    const std::vector<float>& two = type == KvType::F16 ? c : a;
    CHECK_MSG(one == two && three == two, "%s cache: logits depend on the thread count",
              type == KvType::F16 ? "F16" : "F32");
  }
}

// Decode seq, shift out [keep, keep + discard), decode tail; versus a fresh context over
// seq minus the discarded tokens, then tail.
static double shift_vs_fresh(std::shared_ptr<Model> m, KvType type, int64_t keep, int64_t discard) {
  const std::vector<int32_t> seq = sequence(30, (int)m->config.vocab_size), tail = {5, 9, 260, 33};
  std::unique_ptr<LlamaContext> a, b;
  CHECK_OK(LlamaContext::create(m, 128, 2, &a, type));
  CHECK_OK(LlamaContext::create(m, 128, 2, &b, type));
  if (!a || !b) return 1e30;
  std::vector<float> la, lb;
  CHECK_OK(a->decode(seq.data(), (int64_t)seq.size(), &la));
  CHECK_OK(a->shift(keep, discard));
  CHECK(a->position() == (int64_t)seq.size() - discard);
  for (int32_t t : tail) CHECK_OK(a->decode(&t, 1, &la));
  std::vector<int32_t> shifted(seq.begin(), seq.begin() + keep);
  shifted.insert(shifted.end(), seq.begin() + keep + discard, seq.end());
  shifted.insert(shifted.end(), tail.begin(), tail.end());
  CHECK_OK(b->decode(shifted.data(), (int64_t)shifted.size(), &lb));
  CHECK(a->position() == b->position());
  return range_err(la, lb);
}

static void test_shift() {
  std::shared_ptr<Model> one = synthetic(1, "./kv-shift-1layer.gguf");
  if (!one) return;
  const double e32 = shift_vs_fresh(one, KvType::F32, 4, 10), e16 = shift_vs_fresh(one, KvType::F16, 4, 10);
  // re-rotating composes two float rotations (not bit-exact); F16 also re-rounds the keys
  CHECK_MSG(e32 <= 1e-5, "F32 cache: shifted vs fresh diff %g of the logits' range", e32);
  CHECK_MSG(e16 <= 2e-3, "F16 cache: shifted vs fresh diff %g of the logits' range", e16);
  CHECK_MSG(shift_vs_fresh(one, KvType::F32, 0, 29) <= 1e-5, "shift keeping nothing");
  // argument checks, and a shift down to the kept prefix
  std::unique_ptr<LlamaContext> ctx;
  CHECK_OK(LlamaContext::create(one, 128, 1, &ctx, KvType::F32));
  if (!ctx) return;
  std::vector<float> l;
  const std::vector<int32_t> seq = sequence(8, (int)one->config.vocab_size);
  CHECK_OK(ctx->decode(seq.data(), 8, &l));
  CHECK(ctx->shift(2, 7).code() == ErrorCode::InvalidArgument);  // past the position
  CHECK(ctx->shift(-1, 2).code() == ErrorCode::InvalidArgument);
  CHECK(ctx->shift(2, 0).code() == ErrorCode::InvalidArgument);
  CHECK(ctx->position() == 8);
  CHECK_OK(ctx->shift(2, 6));
  CHECK(ctx->position() == 2);

  // a deeper model keeps decoding after a shift, and its logits stay finite
  std::shared_ptr<Model> deep = synthetic(2, "./kv-shift-2layer.gguf");
  if (!deep) return;
  CHECK_OK(LlamaContext::create(deep, 32, 2, &ctx));
  if (!ctx) return;
  std::vector<int32_t> fill = sequence(32, (int)deep->config.vocab_size);
  CHECK_OK(ctx->decode(fill.data(), 32, &l));
  CHECK(ctx->decode(fill.data(), 1, &l).code() == ErrorCode::InvalidArgument);  // full
  CHECK_OK(ctx->shift(4, 16));
  for (int i = 0; i < 16; i++) CHECK_OK(ctx->decode(&fill[(size_t)i], 1, &l));
  bool finite = !l.empty();
  for (float v : l) finite = finite && std::isfinite(v);
  CHECK(finite && ctx->position() == 32);
}

static void test_rope_linear() {
  // angles: position p with factor f is position p / f
  std::vector<float> a(8), b(8);
  rope_angles(6, 8, 10000.0f, nullptr, 2.0f, a.data(), a.data() + 4);
  rope_angles(3, 8, 10000.0f, nullptr, 1.0f, b.data(), b.data() + 4);
  CHECK(a == b);

  std::shared_ptr<Model> plain = synthetic(2, "./rope-plain.gguf");
  std::shared_ptr<Model> lin = synthetic(2, "./rope-linear.gguf", {"linear", 4.0f});
  std::shared_ptr<Model> unit = synthetic(2, "./rope-linear1.gguf", {"linear", 1.0f});
  if (!plain || !lin || !unit) return;
  CHECK(plain->config.rope_linear_factor == 1.0f && lin->config.rope_linear_factor == 4.0f);
  const std::vector<int32_t> seq = sequence(12, (int)plain->config.vocab_size);
  const std::vector<float> p = run(plain, KvType::F32, 2, seq, true), l = run(lin, KvType::F32, 2, seq, true);
  CHECK_MSG(range_err(l, p) > 1e-4, "linear scaling by 4 changed nothing");
  CHECK(run(unit, KvType::F32, 2, seq, true) == p);  // factor 1 is no scaling
  // the first token (position 0) is unaffected by any scaling
  const std::vector<int32_t> first = {seq[0]};
  CHECK(run(lin, KvType::F32, 1, first, true) == run(plain, KvType::F32, 1, first, true));

  // unknown kinds are refused by name; a non-positive factor is a bad file
  pdtest::SyntheticModel syn;
  GgufWriter w;
  syn.fill(w);
  w.set_string("llama.rope.scaling.type", "yarn");
  w.set_f32("llama.rope.scaling.factor", 8.0f);
  CHECK_OK(w.write_file("./rope-yarn.gguf"));
  std::shared_ptr<Model> m;
  Status st = load_model("./rope-yarn.gguf", LoadOptions(), &m);
  std::remove("./rope-yarn.gguf");
  CHECK_MSG(st.code() == ErrorCode::Unsupported && st.message().find("'yarn'") != std::string::npos, "yarn: %s",
            st.message().c_str());
  pdtest::SyntheticModel syn2;
  GgufWriter w2;
  syn2.fill(w2);
  w2.set_string("llama.rope.scaling.type", "linear");
  w2.set_f32("llama.rope.scaling.factor", -2.0f);
  CHECK_OK(w2.write_file("./rope-neg.gguf"));
  st = load_model("./rope-neg.gguf", LoadOptions(), &m);
  std::remove("./rope-neg.gguf");
  CHECK_MSG(st.code() == ErrorCode::BadModelFile, "negative factor: %s", st.message().c_str());
}

int main() {
  std::shared_ptr<Model> m = synthetic(2, "./kv-synthetic.gguf");
  if (m) test_prefill_equals_sequential(m);
  test_shift();
  test_rope_linear();
  return pdtest::finish("test_kv_cache");
}
