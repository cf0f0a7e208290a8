// The whole training graph end to end on a tiny 2-layer model (dim 16, hidden 24, 4 heads on
// 2 kv heads, vocab 40, random F32 weights built in memory), over one packed row of two
// samples with positions restarting and some zero loss weights:
//  - double: every parameter's gradient (full fine-tuning, tied and untied classifier; LoRA
//    with non-zero B, with and without dropout) against central differences, relative error
//    (grad_check.h) < 1e-6 per tensor;
//  - packing: the packed row's loss and gradients equal the sum of each sample run alone;
//  - LoRA with B = 0 gives logits identical (==) to the base model's;
//  - checkpoint_activations gives bitwise identical gradients (float and double, 2 threads);
//  - changing the target of a weight-0 position leaves every gradient exactly unchanged;
//  - float vs double gradients, max-abs-diff / max-abs per tensor < 1e-4 (float round-off
//    through 2 layers: observed 1e-6 full, 2e-5 LoRA; the bound leaves room for other SIMD paths);
//  - no segments / positions means one sample at 0..T-1; LoRA on F16/BF16/Q8_0/Q4_0 bases
//    (dim 64); lora.h's names, init and binding; malformed rows are refused.
#include <cstring>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/ops.h"
#include "backend/cpu/threadpool.h"
#include "grad_check.h"
#include "model/kv_cache.h"
#include "model/llama_forward.h"
#include "model/llama_train.h"
#include "model/lora.h"
#include "testing.h"

using namespace paddock;

namespace {

struct TinyModel {
  Model m;
  std::deque<std::vector<float>> store;

  double sd_scale = 1.0;  // matrices' spread (wider models want smaller weights)

  const Tensor add(std::mt19937& rng, int64_t ne0, int64_t ne1, double mean, double sd) {
    std::normal_distribution<double> nd(mean, mean == 0.0 ? sd * sd_scale : sd);
    store.emplace_back((size_t)(ne0 * (ne1 > 0 ? ne1 : 1)));
    for (float& x : store.back()) x = (float)nd(rng);
    return make_tensor(std::string(), DType::F32, store.back().data(), ne0, ne1);
  }

  explicit TinyModel(bool tied, uint32_t seed = 11, int64_t width = 16, int64_t hidden = 24) {
    sd_scale = std::sqrt(16.0 / (double)width);
    LlamaConfig& c = m.config;
    c.dim = width, c.hidden_dim = hidden, c.n_layers = 2, c.n_heads = 4, c.n_kv_heads = 2, c.vocab_size = 40;
    c.context_length = 64, c.rms_eps = 1e-5f, c.rope_theta = 10000.0f, c.tied_embeddings = tied;
    std::mt19937 rng(seed);
    LlamaWeights& w = m.weights;
    const int64_t dim = c.dim, kvd = c.kv_dim(), hid = c.hidden_dim;
    w.tok_embd = add(rng, dim, c.vocab_size, 0.0, 0.7);
    for (int l = 0; l < c.n_layers; l++) {
      LlamaLayer L;
      L.attn_norm = add(rng, dim, 0, 1.0, 0.1);
      L.wq = add(rng, dim, dim, 0.0, 0.4);
      L.wk = add(rng, dim, kvd, 0.0, 0.4);
      L.wv = add(rng, dim, kvd, 0.0, 0.4);
      L.wo = add(rng, dim, dim, 0.0, 0.3);
      L.ffn_norm = add(rng, dim, 0, 1.0, 0.1);
      L.w_gate = add(rng, dim, hid, 0.0, 0.3);
      L.w_down = add(rng, hid, dim, 0.0, 0.3);
      L.w_up = add(rng, dim, hid, 0.0, 0.3);
      w.layers.push_back(L);
    }
    w.output_norm = add(rng, dim, 0, 1.0, 0.1);
    if (!tied) w.output = add(rng, dim, c.vocab_size, 0.0, 0.5);
  }
};

// The model's matrices stored as `type` (F16/BF16 converted, quant types quantized), and
// `dequant` gets the same model with F32 matrices holding exactly the stored values.
struct StoredAs {
  TinyModel quant, dequant;
  std::deque<std::vector<uint8_t>> bytes;
  StoredAs(DType type) : quant(true, 11, 64, 96), dequant(true, 11, 64, 96) {
    auto convert = [&](Tensor* q, Tensor* d) {
      size_t row = 0;
      dtype_row_bytes(type, q->ne[0], &row);
      bytes.emplace_back(row * (size_t)q->ne[1]);
      float* vals = (float*)d->data;  // the F32 twin's storage (same random values)
      for (int64_t r = 0; r < q->ne[1]; r++) {
        CHECK(row_from_f32(type, vals + r * q->ne[0], bytes.back().data() + r * row, q->ne[0]));
        get_row_f32(make_tensor("", type, bytes.back().data(), q->ne[0], q->ne[1]), r, vals + r * q->ne[0]);
      }
      *q = make_tensor("", type, bytes.back().data(), q->ne[0], q->ne[1]);
    };
    for (size_t l = 0; l < quant.m.weights.layers.size(); l++) {
      LlamaLayer& Q = quant.m.weights.layers[l];
      LlamaLayer& D = dequant.m.weights.layers[l];
      for (auto mat : {&LlamaLayer::wq, &LlamaLayer::wk, &LlamaLayer::wv, &LlamaLayer::wo, &LlamaLayer::w_gate,
                       &LlamaLayer::w_up, &LlamaLayer::w_down})
        convert(&(Q.*mat), &(D.*mat));
    }
  }
};

// Two samples packed in one row: positions restart, the first two targets of each are masked.
struct PackedRow {
  std::vector<int32_t> tokens = {1, 5, 9, 33, 2, 17, 8, 1, 22, 39, 4, 12};
  std::vector<int32_t> targets = {5, 9, 33, 2, 17, 8, 0, 22, 39, 4, 12, 30};
  std::vector<float> weights = {0, 0, 1, 1, 0.5f, 1, 1, 0, 0, 1, 2, 1};
  std::vector<int32_t> positions = {0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4};
  std::vector<int32_t> segments = {0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1};
  TrainRow row(int64_t begin = 0, int64_t end = 12) const {
    TrainRow r;
    r.tokens = tokens.data() + begin;
    r.targets = targets.data() + begin;
    r.weights = weights.data() + begin;
    r.positions = positions.data() + begin;
    r.segments = segments.data() + begin;
    r.T = end - begin;
    return r;
  }
};

template <class R>
struct Trained {
  ParamSetT<R> params;
  LoraWeightsT<R> lora;
  TrainGraphT<R> graph;
};

// Full fine-tuning (lc == nullptr) or LoRA over the tiny model, graph ready.
template <class R>
void setup(const Model& m, const LoraConfig* lc, bool checkpoint, Trained<R>* t, bool random_b = true) {
  TrainModelT<R> tm;
  tm.base = &m;
  tm.checkpoint_activations = checkpoint;
  if (lc) {
    CHECK_OK(lora_create(m.config, *lc, 99, &t->params, &t->lora));
    std::mt19937 rng(5);
    std::normal_distribution<double> nd(0.0, 0.3);
    if (random_b)
      for (ParamT<R>& p : t->params)
        if (p.name.find("lora_b") != std::string::npos)
          for (R& v : p.value) v = (R)nd(rng);
    tm.lora = &t->lora;
  } else {
    CHECK_OK(full_params_from_model(m, &t->params));
    tm.full = &t->params;
  }
  CHECK_OK(t->graph.init(tm, 16, 2));
}

// Every gradient of the row's mean loss against central differences of the same objective.
// use_fb_loss: take the objective from forward_backward (same dropout mask as the gradient).
void check_fd(const char* what, Trained<double>& t, const TrainRow& row, bool use_fb_loss) {
  ThreadPool pool(1);
  double loss = 0, wsum = 0;
  CHECK_OK(t.graph.forward(pool, row, &loss, &wsum));
  const double scale = 1.0 / wsum;
  t.params.zero_grad();
  CHECK_OK(t.graph.forward_backward(pool, row, scale, 7, &loss, &wsum));
  std::vector<std::vector<double>> analytic;
  for (ParamT<double>& p : t.params) analytic.push_back(p.grad);
  auto objective = [&] {
    double l = 0, ws = 0;
    if (use_fb_loss)
      CHECK_OK(t.graph.forward_backward(pool, row, scale, 7, &l, &ws));
    else
      CHECK_OK(t.graph.forward(pool, row, &l, &ws));
    return l * scale;
  };
  double worst = 0;
  size_t i = 0;
  for (ParamT<double>& p : t.params) {
    std::vector<double> numeric(p.value.size());
    for (size_t j = 0; j < p.value.size(); j++) numeric[j] = pdtest::central_diff(&p.value[j], objective);
    const double e = pdtest::rel_error(analytic[i++], numeric);
    worst = std::fmax(worst, e);
    CHECK_MSG(e < 1e-6, "%s: %s relative error %.3g", what, p.name.c_str(), e);
  }
  std::printf("  %-34s %zu tensors, worst relative error %.2e\n", what, t.params.size(), worst);
}

template <class R>
std::vector<std::vector<R>> grads_of(Trained<R>& t, ThreadPool& pool, const TrainRow& row) {
  double loss = 0, wsum = 0;
  t.params.zero_grad();
  CHECK_OK(t.graph.forward_backward(pool, row, R(0.125), 3, &loss, &wsum));
  std::vector<std::vector<R>> g;
  for (ParamT<R>& p : t.params) g.push_back(p.grad);
  return g;
}

void test_finite_differences() {
  const PackedRow pr;
  for (bool tied : {true, false}) {
    TinyModel tiny(tied);
    Trained<double> t;
    setup<double>(tiny.m, nullptr, false, &t);
    check_fd(tied ? "full, tied classifier" : "full, untied classifier", t, pr.row(), false);
  }
  TinyModel tiny(true);
  LoraConfig lc;
  lc.rank = 3;
  lc.alpha = 6.0f;
  {
    Trained<double> t;
    setup<double>(tiny.m, &lc, false, &t);
    check_fd("LoRA r3, all targets", t, pr.row(), false);
  }
  {
    lc.dropout = 0.3f;
    lc.targets = (1u << (int)LoraTarget::Q) | (1u << (int)LoraTarget::V) | (1u << (int)LoraTarget::Down);
    Trained<double> t;
    setup<double>(tiny.m, &lc, true, &t);
    check_fd("LoRA r3, q/v/down, dropout 0.3", t, pr.row(), true);
    // dropout is live in training and off in evaluation; the mask follows the seed
    ThreadPool pool(1);
    double eval = 0, train7 = 0, train8 = 0, again7 = 0, w = 0;
    CHECK_OK(t.graph.forward(pool, pr.row(), &eval, &w));
    CHECK_OK(t.graph.forward_backward(pool, pr.row(), 1.0, 7, &train7, &w));
    CHECK_OK(t.graph.forward_backward(pool, pr.row(), 1.0, 8, &train8, &w));
    CHECK_OK(t.graph.forward_backward(pool, pr.row(), 1.0, 7, &again7, &w));
    CHECK(eval != train7 && train7 != train8 && train7 == again7);
  }
}

// Packing: the packed row equals its samples run alone (loss and gradients, to round-off).
void test_packing() {
  const PackedRow pr;
  TinyModel tiny(true);
  ThreadPool pool(1);
  Trained<double> t;
  setup<double>(tiny.m, nullptr, false, &t);
  const std::vector<std::vector<double>> packed = grads_of(t, pool, pr.row());
  std::vector<std::vector<double>> sum = grads_of(t, pool, pr.row(0, 7));
  const std::vector<std::vector<double>> second = grads_of(t, pool, pr.row(7, 12));
  double worst = 0;
  for (size_t i = 0; i < sum.size(); i++) {
    for (size_t j = 0; j < sum[i].size(); j++) sum[i][j] += second[i][j];
    worst = std::fmax(worst, pdtest::rel_error(sum[i], packed[i]));
  }
  CHECK_MSG(worst < 1e-12, "packed vs separate gradients: %.3g", worst);
  double l_all = 0, l1 = 0, l2 = 0, w = 0;
  CHECK_OK(t.graph.forward(pool, pr.row(), &l_all, &w));
  CHECK_OK(t.graph.forward(pool, pr.row(0, 7), &l1, &w));
  CHECK_OK(t.graph.forward(pool, pr.row(7, 12), &l2, &w));
  CHECK_MSG(std::fabs(l_all - (l1 + l2)) < 1e-12 * l_all, "packed loss %.17g vs %.17g", l_all, l1 + l2);
}

template <class R>
void test_exactness() {
  const PackedRow pr;
  TinyModel tiny(true);
  ThreadPool pool(2);
  LoraConfig lc;
  lc.rank = 4;
  // LoRA with B = 0 is the base model exactly
  {
    Trained<R> full, lora;
    setup<R>(tiny.m, nullptr, false, &full);
    setup<R>(tiny.m, &lc, false, &lora, false);
    std::vector<R> a, b;
    double l1 = 0, l2 = 0, w = 0;
    CHECK_OK(full.graph.forward(pool, pr.row(), &l1, &w, &a));
    CHECK_OK(lora.graph.forward(pool, pr.row(), &l2, &w, &b));
    CHECK(a.size() == 12 * 40 && a == b && l1 == l2);
  }
  lc.dropout = 0.2f;
  for (int mode = 0; mode < 2; mode++) {
    const LoraConfig* l = mode ? &lc : nullptr;
    Trained<R> plain, ckpt;
    setup<R>(tiny.m, l, false, &plain);
    setup<R>(tiny.m, l, true, &ckpt);
    const auto g = grads_of(plain, pool, pr.row());
    CHECK_MSG(g == grads_of(ckpt, pool, pr.row()), "checkpoint_activations changed the gradients (%s)",
              mode ? "LoRA" : "full");
    // a masked position's target is never read
    PackedRow changed;
    changed.targets[7] = 3;
    changed.targets[1] = 38;
    CHECK_MSG(g == grads_of(plain, pool, changed.row()), "a weight-0 target changed the gradients (%s)",
              mode ? "LoRA" : "full");
    // and the same row again gives the same bits (no state leaks between calls)
    CHECK(g == grads_of(plain, pool, pr.row()));
  }
}

void test_float_vs_double() {
  const PackedRow pr;
  TinyModel tiny(true);
  ThreadPool pool(2);
  LoraConfig lc;
  lc.rank = 4;
  for (const LoraConfig* l : {(const LoraConfig*)nullptr, (const LoraConfig*)&lc}) {
    Trained<float> f;
    Trained<double> d;
    setup<float>(tiny.m, l, false, &f);
    setup<double>(tiny.m, l, false, &d);
    const auto gf = grads_of(f, pool, pr.row());
    const auto gd = grads_of(d, pool, pr.row());
    double worst = 0;
    for (size_t i = 0; i < gd.size(); i++) worst = std::fmax(worst, pdtest::rel_error(pdtest::to_double(gf[i]), gd[i]));
    std::printf("  float vs double (%s): worst %.2e\n", l ? "LoRA" : "full", worst);
    CHECK_MSG(worst < 1e-4, "float vs double gradients: %.3g", worst);
  }
}

// A row without segments is one sample, and without positions counts 0..T-1: the same bits as
// saying so explicitly.
void test_default_segments() {
  TinyModel tiny(true);
  Trained<double> t;
  setup<double>(tiny.m, nullptr, false, &t);
  ThreadPool pool(1);
  PackedRow pr;
  for (int i = 0; i < 12; i++) pr.segments[i] = 0, pr.positions[i] = i;
  std::vector<double> explicit_logits, default_logits;
  double l1 = 0, l2 = 0, w = 0;
  CHECK_OK(t.graph.forward(pool, pr.row(), &l1, &w, &explicit_logits));
  TrainRow r = pr.row();
  r.segments = nullptr;
  r.positions = nullptr;
  CHECK_OK(t.graph.forward(pool, r, &l2, &w, &default_logits));
  CHECK(l1 == l2 && explicit_logits == default_logits);
  const PackedRow packed;
  double l3 = 0;
  CHECK_OK(t.graph.forward(pool, packed.row(), &l3, &w));
  CHECK(l3 != l1);  // and packing does change what the second sample sees
}

// LoRA over frozen bases of other types (QLoRA): the base is used as stored, never written.
// F16/BF16 rows are converted exactly, so the gradients equal those over an F32 base holding
// the same values, bitwise. Quant bases run the inference forward's integer dots (activations
// quantized to 8 bits per block): the training forward must give the inference forward's logits
// (llama_forward, F32 KV cache, token by token) to 1e-5 relative (observed: identical), and the
// gradients only approximate the dequantized twin's (the 8-bit activation rounding, amplified by
// two random layers: per-tensor differences of 5e-2..0.45 were seen as the quant kernels
// changed), so they are judged by direction: cosine of the whole gradient > 0.99 (observed
// 0.9986 for Q4_0, 0.9996 for Q8_0).
void check_quant_forward_parity(const Model& m) {
  const PackedRow pr;
  LoraConfig lc;
  lc.rank = 4;
  Trained<float> t;
  setup<float>(m, &lc, false, &t, false);
  ThreadPool pool(1);
  const int64_t T = 7, V = m.config.vocab_size;  // the first sample (positions 0..6)
  std::vector<float> train;
  double l = 0, w = 0;
  CHECK_OK(t.graph.forward(pool, pr.row(0, T), &l, &w, &train));
  KvCache kv;
  ForwardScratch s;
  CHECK_OK(kv.init(m.config, T, KvType::F32));
  CHECK_OK(s.init(m.config, 1, T, 1));
  std::vector<double> a, b;
  for (int64_t i = 0; i < T; i++) {
    llama_forward(m, pool, kv, s, &pr.tokens[(size_t)i], 1, i, true);
    for (int64_t v = 0; v < V; v++) a.push_back(train[(size_t)(i * V + v)]), b.push_back(s.logits.f32()[v]);
  }
  const double e = pdtest::rel_error(a, b);
  std::printf("  %s base, training vs inference logits: %.2e\n", dtype_name(m.weights.layers[0].wq.type), e);
  CHECK_MSG(e < 1e-5, "training forward vs llama_forward on a quant base: %.3g", e);
}

void test_lora_on_stored_types() {
  const PackedRow pr;
  ThreadPool pool(2);
  LoraConfig lc;
  lc.rank = 4;
  for (DType type : {DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0}) {
    StoredAs s(type);
    const std::vector<uint8_t> before = s.bytes.front();
    Trained<float> q, d;
    setup<float>(s.quant.m, &lc, false, &q);
    setup<float>(s.dequant.m, &lc, false, &d);
    const auto gq = grads_of(q, pool, pr.row());
    const auto gd = grads_of(d, pool, pr.row());
    double worst = 0, dot = 0, nq = 0, nd = 0;  // per-tensor error; cosine of the whole gradient
    for (size_t i = 0; i < gd.size(); i++) {
      worst = std::fmax(worst, pdtest::rel_error(pdtest::to_double(gq[i]), pdtest::to_double(gd[i])));
      for (size_t j = 0; j < gd[i].size(); j++)
        dot += (double)gq[i][j] * gd[i][j], nq += (double)gq[i][j] * gq[i][j], nd += (double)gd[i][j] * gd[i][j];
    }
    const double cosine = dot / std::sqrt(nq * nd);
    std::printf("  LoRA on %s base vs its F32 twin: %.2e, cosine %.6f\n", dtype_name(type), worst, cosine);
    if (type == DType::F16 || type == DType::BF16)
      CHECK_MSG(gq == gd, "%s base: gradients differ from the F32 twin's (%.3g)", dtype_name(type), worst);
    else
      CHECK_MSG(cosine > 0.99, "%s base: gradient cosine with the F32 twin's %.6f", dtype_name(type), cosine);
    if (type == DType::Q8_0 || type == DType::Q4_0) check_quant_forward_parity(s.quant.m);
    CHECK(s.bytes.front() == before);  // the base is never written
  }
}

// lora.h: names, shapes, init (A ~ U(+-1/sqrt(n_in)) from the seed, B = 0), binding, targets.
void test_lora_tables() {
  TinyModel tiny(true);
  const LlamaConfig& c = tiny.m.config;
  LoraConfig lc;
  lc.rank = 3;
  CHECK_OK(parse_lora_targets("q,v,down", &lc.targets));
  CHECK(lc.targets == 0x45u);
  uint32_t mask = 0;
  CHECK(!parse_lora_targets("q,x", &mask).ok() && !parse_lora_targets("", &mask).ok() &&
        !parse_lora_targets("q,,k", &mask).ok());
  ParamSet a, b;
  LoraWeights la, lb;
  CHECK_OK(lora_create(c, lc, 42, &a, &la));
  CHECK_OK(lora_create(c, lc, 42, &b, &lb));
  CHECK(a.size() == 2 * 3 * (size_t)c.n_layers);
  const Param* down_a = a.find("blk.1.ffn_down.weight.lora_a");
  const Param* down_b = a.find("blk.1.ffn_down.weight.lora_b");
  CHECK(down_a && down_a->rows == 3 && down_a->cols == c.hidden_dim);
  CHECK(down_b && down_b->rows == c.dim && down_b->cols == 3);
  CHECK(la.layers.size() == 2 && la.layers[1][(int)LoraTarget::Down].a == down_a && !la.layers[1][(int)LoraTarget::K].a);
  bool same = true, bounded = true, zero_b = true;
  for (size_t i = 0; i < a.size(); i++) {
    same = same && a[i].value == b[i].value;
    const bool is_a = a[i].name.find("lora_a") != std::string::npos;
    for (float v : a[i].value) {
      if (is_a) bounded = bounded && std::fabs(v) <= 1.0f / std::sqrt((float)a[i].cols) && v != 0.0f;
      else zero_b = zero_b && v == 0.0f;
    }
  }
  CHECK(same && bounded && zero_b);
  ParamSet other;
  LoraWeights lo;
  CHECK_OK(lora_create(c, lc, 43, &other, &lo));
  CHECK(other[0].value != a[0].value);
  LoraWeights bound;
  CHECK_OK(lora_bind(c, lc, &a, "adapter.gguf", &bound));
  CHECK(bound.layers[0][(int)LoraTarget::Q].b == a.find("blk.0.attn_q.weight.lora_b"));
  lc.targets |= 1u << (int)LoraTarget::Up;  // not in the set
  const Status missing = lora_bind(c, lc, &a, "adapter.gguf", &bound);
  CHECK(missing.code() == ErrorCode::BadModelFile && missing.message().find("ffn_up") != std::string::npos);
  lc.rank = 0;
  CHECK(!lora_create(c, lc, 1, &other, &lo).ok());
}

void test_bad_rows() {
  TinyModel tiny(true);
  Trained<float> t;
  setup<float>(tiny.m, nullptr, false, &t);
  ThreadPool pool(1);
  PackedRow pr;
  double l = 0, w = 0;
  pr.tokens[3] = 40;  // outside the vocabulary
  CHECK(!t.graph.forward_backward(pool, pr.row(), 1.0f, 0, &l, &w).ok());
  pr.tokens[3] = 3;
  pr.segments[9] = 0;  // decreasing
  CHECK(!t.graph.forward(pool, pr.row(), &l, &w).ok());
  pr.segments[9] = 1;
  CHECK(t.graph.forward(pool, pr.row(0, 12), &l, &w).ok());
  TrainRow too_long = pr.row();
  too_long.T = 17;  // max_T is 16
  CHECK(!t.graph.forward(pool, too_long, &l, &w).ok());
}

}  // namespace

int main(int, char**) {
  test_finite_differences();
  test_packing();
  test_exactness<float>();
  test_exactness<double>();
  test_float_vs_double();
  test_default_segments();
  test_lora_on_stored_types();
  test_lora_tables();
  test_bad_rows();
  return pdtest::finish("test_train_fd");
}
