// The Llama training graph (see llama_train.h): a forward that keeps the activations of
// train_activations.h, the head (classifier + weighted cross-entropy over the positions that
// carry loss), and the backward, layer by layer in reverse, llm.c style: each block's forward
// and backward side by side. Matrices go through train_linear.h (LoRA and full fine-tuning
// alike), per-token ops through ops_grad.h, attention through attention_train.h.
#include "model/llama_train.h"

#include <cmath>
#include <cstring>
#include <deque>

#include "backend/cpu/attention_train.h"
#include "backend/cpu/ops.h"
#include "backend/cpu/ops_grad.h"
#include "backend/cpu/threadpool.h"
#include "model/train_activations.h"
#include "model/train_linear.h"
#include "model/train_parallel.h"

namespace paddock {

Status check_train_row(const LlamaConfig& c, const TrainRow& row, int64_t max_T) {
  if (row.T <= 0 || row.T > max_T)
    return PD_ERROR(InvalidArgument, "training row has %lld tokens; expected 1 to %lld", (long long)row.T,
                    (long long)max_T);
  if (!row.tokens || !row.targets || !row.weights)
    return PD_ERROR(InvalidArgument, "training row lacks tokens, targets or weights");
  for (int64_t t = 0; t < row.T; t++) {
    if (row.tokens[t] < 0 || row.tokens[t] >= c.vocab_size)
      return PD_ERROR(InvalidArgument, "token id %d at position %lld is outside the vocabulary (%lld)",
                      row.tokens[t], (long long)t, (long long)c.vocab_size);
    if (row.targets[t] < 0 || row.targets[t] >= c.vocab_size)
      return PD_ERROR(InvalidArgument, "target id %d at position %lld is outside the vocabulary (%lld)",
                      row.targets[t], (long long)t, (long long)c.vocab_size);
    if (!std::isfinite(row.weights[t]) || row.weights[t] < 0.0f)
      return PD_ERROR(InvalidArgument, "loss weight %g at position %lld is negative or not finite",
                      (double)row.weights[t], (long long)t);
    if (row.segments && t > 0 && row.segments[t] < row.segments[t - 1])
      return PD_ERROR(InvalidArgument, "segment ids decrease at position %lld", (long long)t);
    if (row.positions && row.positions[t] < 0)
      return PD_ERROR(InvalidArgument, "position %d at index %lld is negative", row.positions[t], (long long)t);
  }
  return Status();
}

namespace {

// GGUF names of a layer's nine tensors in GGUF order, and the classifier-side ones.
std::string layer_name(int64_t l, const char* what) { return "blk." + std::to_string(l) + "." + what + ".weight"; }

template <class R>
DType real_dtype() {
  return sizeof(R) == sizeof(float) ? DType::F32 : DType::F64;
}

template <class R>
Tensor matrix_view(const R* data, int64_t rows, int64_t cols) {
  return make_tensor(std::string(), real_dtype<R>(), data, cols, rows);
}

// A weight converted (or dequantized) to R, row by row.
template <class R>
void tensor_to_real(const Tensor& t, R* out) {
  std::vector<float> row((size_t)t.ne[0]);
  for (int64_t r = 0; r < t.nrows(); r++) {
    get_row_f32(t, r, row.data());
    for (int64_t i = 0; i < t.ne[0]; i++) out[r * t.ne[0] + i] = (R)row[(size_t)i];
  }
}

// Embedding row `id` of a table in R (float: any weight type; double: an F64 matrix).
void embed_row(const Tensor& E, int64_t id, float* out) { get_row_f32(E, id, out); }
void embed_row(const Tensor& E, int64_t id, double* out) {
  std::memcpy(out, (const double*)E.data + id * E.ne[0], (size_t)E.ne[0] * sizeof(double));
}

}  // namespace

template <class R>
Status full_params_from_model(const Model& m, ParamSetT<R>* params) {
  const LlamaWeights& w = m.weights;
  auto add = [&](const std::string& name, const Tensor& t) {
    ParamT<R>& p = params->add(name, t.n_dims > 1 ? t.ne[1] : 1, t.ne[0]);
    tensor_to_real(t, p.value.data());
  };
  if (w.tok_embd.empty() || w.layers.size() != (size_t)m.config.n_layers)
    return PD_ERROR(InvalidArgument, "%s: the model has no weights to train", m.path.c_str());
  add("token_embd.weight", w.tok_embd);
  for (size_t l = 0; l < w.layers.size(); l++) {
    const LlamaLayer& L = w.layers[l];
    add(layer_name((int64_t)l, "attn_norm"), L.attn_norm);
    add(layer_name((int64_t)l, "attn_q"), L.wq);
    add(layer_name((int64_t)l, "attn_k"), L.wk);
    add(layer_name((int64_t)l, "attn_v"), L.wv);
    add(layer_name((int64_t)l, "attn_output"), L.wo);
    add(layer_name((int64_t)l, "ffn_norm"), L.ffn_norm);
    add(layer_name((int64_t)l, "ffn_gate"), L.w_gate);
    add(layer_name((int64_t)l, "ffn_down"), L.w_down);
    add(layer_name((int64_t)l, "ffn_up"), L.w_up);
  }
  add("output_norm.weight", w.output_norm);
  if (!w.output.empty()) add("output.weight", w.output);
  return Status();
}

template <class R>
struct TrainGraphT<R>::Impl {
  struct Layer {
    const R* attn_norm = nullptr;
    const R* ffn_norm = nullptr;
    ParamT<R>* attn_norm_p = nullptr;  // full fine-tuning: norm weight grads
    ParamT<R>* ffn_norm_p = nullptr;
    TrainLinear<R> lin[kLoraTargetCount];  // by LoraTarget: q, k, v, o, gate, up, down
  };

  TrainModelT<R> m;
  LlamaConfig c;
  int64_t max_T = 0;
  int n_threads = 1;
  std::vector<Layer> layers;
  Tensor embd;
  ParamT<R>* embd_p = nullptr;
  const R* out_norm = nullptr;
  ParamT<R>* out_norm_p = nullptr;
  TrainLinear<R> classifier;
  const float* freq_factors = nullptr;
  std::deque<std::vector<R>> owned;  // frozen weights converted to R (norms; every matrix in double)
  TrainActivations<R> act;
  LinearContext<R> lctx;

  Status bind_weights();
  void forward_layer(int64_t l, const LayerActivations<R>& a, R* out, int64_t T);
  void backward_layer(int64_t l, const LayerActivations<R>& a, int64_t T);
  Status run(ThreadPool& pool, const TrainRow& row, bool backward, R grad_scale, uint64_t seed, double* loss_sum,
             double* weight_sum, std::vector<R>* logits_out);
};

template <class R>
Status TrainGraphT<R>::Impl::bind_weights() {
  const LlamaWeights& w = m.base->weights;
  ParamSetT<R>* full = m.full;
  // A frozen vector or matrix as the graph reads it: norms always as R copies; matrices as the
  // base tensor in float (any type the forward runs) and as an F64 copy in double.
  auto frozen_vec = [&](const Tensor& t) {
    owned.emplace_back((size_t)t.nelements());
    tensor_to_real(t, owned.back().data());
    return (const R*)owned.back().data();
  };
  auto frozen_mat = [&](const Tensor& t) {
    if (sizeof(R) == sizeof(float)) return t;
    owned.emplace_back((size_t)t.nelements());
    tensor_to_real(t, owned.back().data());
    return matrix_view<R>(owned.back().data(), t.ne[1], t.ne[0]);
  };
  auto param = [&](const std::string& name, int64_t rows, int64_t cols, ParamT<R>** out) -> Status {
    ParamT<R>* p = full->find(name);
    if (!p) return PD_ERROR(InvalidArgument, "full fine-tuning parameters lack %s", name.c_str());
    if (p->rows != rows || p->cols != cols)
      return PD_ERROR(InvalidArgument, "parameter %s: expected [%lld, %lld], found [%lld, %lld]", name.c_str(),
                      (long long)rows, (long long)cols, (long long)p->rows, (long long)p->cols);
    *out = p;
    return Status();
  };
  layers.assign((size_t)c.n_layers, Layer{});
  for (int64_t l = 0; l < c.n_layers; l++) {
    Layer& L = layers[(size_t)l];
    const LlamaLayer& B = w.layers[(size_t)l];
    const Tensor* base_mats[kLoraTargetCount] = {&B.wq, &B.wk, &B.wv, &B.wo, &B.w_gate, &B.w_up, &B.w_down};
    if (full) {
      PD_TRY(param(layer_name(l, "attn_norm"), 1, c.dim, &L.attn_norm_p));
      PD_TRY(param(layer_name(l, "ffn_norm"), 1, c.dim, &L.ffn_norm_p));
      L.attn_norm = L.attn_norm_p->value.data();
      L.ffn_norm = L.ffn_norm_p->value.data();
    } else {
      L.attn_norm = frozen_vec(B.attn_norm);
      L.ffn_norm = frozen_vec(B.ffn_norm);
    }
    for (int i = 0; i < kLoraTargetCount; i++) {
      TrainLinear<R>& lin = L.lin[i];
      lora_target_shape(c, (LoraTarget)i, &lin.n_in, &lin.n_out);
      lin.dropout_stream = (uint64_t)l * 8 + (uint64_t)i;
      if (full) {
        PD_TRY(param(layer_name(l, lora_target_gguf((LoraTarget)i)), lin.n_out, lin.n_in, &lin.param));
        lin.w = matrix_view<R>(lin.param->value.data(), lin.n_out, lin.n_in);
        continue;
      }
      lin.w = frozen_mat(*base_mats[i]);
      const typename LoraWeightsT<R>::Pair& pair = m.lora->layers[(size_t)l][(size_t)i];
      if (!pair.a || !pair.b) continue;
      if (pair.a->cols != lin.n_in || pair.b->rows != lin.n_out || pair.a->rows != m.lora->config.rank ||
          pair.b->cols != m.lora->config.rank)
        return PD_ERROR(InvalidArgument, "LoRA tensors %s / %s do not fit [%lld, %lld] at rank %d",
                        pair.a->name.c_str(), pair.b->name.c_str(), (long long)lin.n_out, (long long)lin.n_in,
                        m.lora->config.rank);
      lin.lora_a = pair.a;
      lin.lora_b = pair.b;
      lin.a_view = matrix_view<R>(pair.a->value.data(), pair.a->rows, pair.a->cols);
      lin.b_view = matrix_view<R>(pair.b->value.data(), pair.b->rows, pair.b->cols);
    }
  }
  classifier.n_in = c.dim;
  classifier.n_out = c.vocab_size;
  if (full) {
    PD_TRY(param("token_embd.weight", c.vocab_size, c.dim, &embd_p));
    PD_TRY(param("output_norm.weight", 1, c.dim, &out_norm_p));
    embd = matrix_view<R>(embd_p->value.data(), c.vocab_size, c.dim);
    out_norm = out_norm_p->value.data();
    if (w.output.empty()) {
      classifier.param = embd_p;  // tied: token_embd gets both gradients
    } else {
      PD_TRY(param("output.weight", c.vocab_size, c.dim, &classifier.param));
    }
    classifier.w = matrix_view<R>(classifier.param->value.data(), c.vocab_size, c.dim);
  } else {
    embd = frozen_mat(w.tok_embd);
    out_norm = frozen_vec(w.output_norm);
    classifier.w = w.output.empty() ? embd : frozen_mat(w.output);
  }
  freq_factors = w.rope_freqs.empty() ? nullptr : (const float*)w.rope_freqs.data;
  return Status();
}

template <class R>
TrainGraphT<R>::TrainGraphT() = default;
template <class R>
TrainGraphT<R>::~TrainGraphT() = default;

template <class R>
Status TrainGraphT<R>::init(const TrainModelT<R>& m, int64_t max_T, int n_threads) {
  if (!m.base) return PD_ERROR(InvalidArgument, "training graph: no base model");
  if ((m.full != nullptr) == (m.lora != nullptr))
    return PD_ERROR(InvalidArgument, "training graph: set exactly one of full and lora");
  if (max_T < 1 || n_threads < 1)
    return PD_ERROR(InvalidArgument, "training graph: max_T %lld and n_threads %d must be positive",
                    (long long)max_T, n_threads);
  const LlamaConfig& c = m.base->config;
  if (m.base->weights.layers.size() != (size_t)c.n_layers)
    return PD_ERROR(InvalidArgument, "%s: the model has no weights to train", m.base->path.c_str());
  if (m.lora && m.lora->layers.size() != (size_t)c.n_layers)
    return PD_ERROR(InvalidArgument, "LoRA adapter has %zu layers, the model %lld", m.lora->layers.size(),
                    (long long)c.n_layers);
  auto impl = std::make_unique<Impl>();
  impl->m = m;
  impl->c = c;
  impl->max_T = max_T;
  impl->n_threads = n_threads;
  PD_TRY(impl->bind_weights());
  PD_TRY(impl->act.init(c, m.lora ? &m.lora->config : nullptr, max_T, n_threads, m.checkpoint_activations));
  impl_ = std::move(impl);
  return Status();
}

template <class R>
size_t TrainGraphT<R>::activation_bytes() const {
  return impl_ ? impl_->act.bytes() : 0;
}

template <class R>
void TrainGraphT<R>::Impl::forward_layer(int64_t l, const LayerActivations<R>& a, R* out, int64_t T) {
  ThreadPool* pool = lctx.pool;
  const Layer& L = layers[(size_t)l];
  const int64_t dim = c.dim, hd = c.head_dim(), kvd = c.kv_dim(), hid = c.hidden_dim;
  const R eps = (R)c.rms_eps;
  using LT = LoraTarget;
  // attention block: x_mid = x_in + wo(attention(rope(wq xn1), rope(wk xn1), wv xn1))
  for_each_row(pool, T, (double)dim * 4, [&](int64_t t) {
    a.rstd1[t] = rmsnorm_forward(a.xn1 + t * dim, a.x_in + t * dim, L.attn_norm, dim, eps);
  });
  const TrainLinear<R>* qkv[3] = {&L.lin[(int)LT::Q], &L.lin[(int)LT::K], &L.lin[(int)LT::V]};
  R* qkv_out[3] = {a.q, a.k, a.v};
  R* qkv_lora[3] = {a.lora[(int)LT::Q], a.lora[(int)LT::K], a.lora[(int)LT::V]};
  linear_forward(lctx, qkv, qkv_out, qkv_lora, 3, a.xn1, T);
  for_each_row(pool, T, (double)(dim + kvd) * 4, [&](int64_t t) {
    const R* r = act.rope + t * hd;
    rope_apply(a.q + t * dim, (int)c.n_heads, (int)hd, r, r + hd / 2);
    rope_apply(a.k + t * kvd, (int)c.n_kv_heads, (int)hd, r, r + hd / 2);
  });
  const AttentionShape shape{T, c.n_heads, c.n_kv_heads, hd};
  attention_forward(pool, shape, a.q, a.k, a.v, act.seg_start.data(), a.att, a.lse, act.attn_scratch);
  const TrainLinear<R>* o = &L.lin[(int)LT::O];
  R* lora_o = a.lora[(int)LT::O];
  linear_forward(lctx, &o, &act.proj, &lora_o, 1, a.att, T);
  // feed-forward block: out = x_mid + w_down(silu(w_gate xn2) * w_up xn2)
  for_each_row(pool, T, (double)dim * 6, [&](int64_t t) {
    for (int64_t i = t * dim; i < (t + 1) * dim; i++) a.x_mid[i] = a.x_in[i] + act.proj[i];
    a.rstd2[t] = rmsnorm_forward(a.xn2 + t * dim, a.x_mid + t * dim, L.ffn_norm, dim, eps);
  });
  const TrainLinear<R>* gu[2] = {&L.lin[(int)LT::Gate], &L.lin[(int)LT::Up]};
  R* gu_out[2] = {a.gate, a.up};
  R* gu_lora[2] = {a.lora[(int)LT::Gate], a.lora[(int)LT::Up]};
  linear_forward(lctx, gu, gu_out, gu_lora, 2, a.xn2, T);
  for_each_row(pool, T, (double)hid * 16, [&](int64_t t) {
    swiglu_forward(a.h + t * hid, a.gate + t * hid, a.up + t * hid, hid);
  });
  const TrainLinear<R>* down = &L.lin[(int)LT::Down];
  R* lora_down = a.lora[(int)LT::Down];
  linear_forward(lctx, &down, &act.proj, &lora_down, 1, a.h, T);
  for_each_row(pool, T, (double)dim, [&](int64_t t) {
    for (int64_t i = t * dim; i < (t + 1) * dim; i++) out[i] = a.x_mid[i] + act.proj[i];
  });
}

// act.dx holds dL/d(layer output) on entry and dL/d(x_in) on return.
template <class R>
void TrainGraphT<R>::Impl::backward_layer(int64_t l, const LayerActivations<R>& a, int64_t T) {
  ThreadPool* pool = lctx.pool;
  Layer& L = layers[(size_t)l];
  const int64_t dim = c.dim, hd = c.head_dim(), kvd = c.kv_dim(), hid = c.hidden_dim;
  using LT = LoraTarget;
  R* dx = act.dx;
  R* dxn = act.dxn;
  auto lin = [&](LT t) -> const TrainLinear<R>& { return L.lin[(int)t]; };
  auto norm_backward = [&](ParamT<R>* p, const R* w, const R* x, const R* rstd) {
    if (p)
      for_each_share(pool, dim, (double)T * dim, [&](int64_t j0, int64_t j1) {
        rmsnorm_weight_grad(p->grad.data(), dxn, x, rstd, T, dim, j0, j1);
      });
    for_each_row(pool, T, (double)dim * 6, [&](int64_t t) {
      rmsnorm_backward(dx + t * dim, dxn + t * dim, x + t * dim, w, rstd[t], dim, true);
    });
  };
  // feed-forward block
  linear_backward(lctx, lin(LT::Down), a.h, a.lora[(int)LT::Down], dx, T, act.dh, false);
  for_each_row(pool, T, (double)hid * 16, [&](int64_t t) {
    swiglu_backward(act.dgate + t * hid, act.dup + t * hid, act.dh + t * hid, a.gate + t * hid, a.up + t * hid, hid);
  });
  linear_backward(lctx, lin(LT::Gate), a.xn2, a.lora[(int)LT::Gate], act.dgate, T, dxn, false);
  linear_backward(lctx, lin(LT::Up), a.xn2, a.lora[(int)LT::Up], act.dup, T, dxn, true);
  norm_backward(L.ffn_norm_p, L.ffn_norm, a.x_mid, a.rstd2);
  // attention block
  linear_backward(lctx, lin(LT::O), a.att, a.lora[(int)LT::O], dx, T, act.datt, false);
  const AttentionShape shape{T, c.n_heads, c.n_kv_heads, hd};
  attention_backward(pool, shape, a.q, a.k, a.v, act.seg_start.data(), a.att, a.lse, act.datt, act.dq, act.dk,
                     act.dv, act.attn_scratch);
  for_each_row(pool, T, (double)(dim + kvd) * 4, [&](int64_t t) {
    const R* r = act.rope + t * hd;
    rope_backward(act.dq + t * dim, (int)c.n_heads, (int)hd, r, r + hd / 2);
    rope_backward(act.dk + t * kvd, (int)c.n_kv_heads, (int)hd, r, r + hd / 2);
  });
  linear_backward(lctx, lin(LT::Q), a.xn1, a.lora[(int)LT::Q], act.dq, T, dxn, false);
  linear_backward(lctx, lin(LT::K), a.xn1, a.lora[(int)LT::K], act.dk, T, dxn, true);
  linear_backward(lctx, lin(LT::V), a.xn1, a.lora[(int)LT::V], act.dv, T, dxn, true);
  norm_backward(L.attn_norm_p, L.attn_norm, a.x_in, a.rstd1);
}

template <class R>
Status TrainGraphT<R>::Impl::run(ThreadPool& pool, const TrainRow& row, bool backward, R grad_scale, uint64_t seed,
                                 double* loss_sum, double* weight_sum, std::vector<R>* logits_out) {
  PD_TRY(check_train_row(c, row, max_T));
  if (pool.size() > n_threads)
    return PD_ERROR(InvalidArgument, "training graph sized for %d threads, called with %d", n_threads, pool.size());
  const int64_t T = row.T, dim = c.dim, hd = c.head_dim(), V = c.vocab_size;
  const R eps = (R)c.rms_eps;
  lctx.pool = &pool;
  lctx.lora_scale = m.lora ? (R)m.lora->config.alpha / (R)m.lora->config.rank : R(1);
  lctx.dropout = m.lora && backward ? m.lora->config.dropout : 0.0f;  // evaluation runs without dropout
  lctx.dropout_seed = seed;
  lctx.drop_x = act.lora_drop_x;
  lctx.tmp = act.lora_tmp;
  lctx.dz = act.lora_dz;

  for (int64_t t = 0; t < T; t++) {  // no segments: one sample
    const bool same = t > 0 && (!row.segments || row.segments[t] == row.segments[t - 1]);
    act.seg_start[(size_t)t] = same ? act.seg_start[(size_t)t - 1] : (int32_t)t;
  }
  R* x0 = act.layers[0].x_in;
  for_each_row(&pool, T, (double)dim * 8, [&](int64_t t) {
    R* r = act.rope + t * hd;
    rope_angles_r<R>(row.positions ? row.positions[t] : t, (int)hd, c.rope_theta, freq_factors,
                     c.rope_linear_factor, r, r + hd / 2);
    embed_row(embd, row.tokens[t], x0 + t * dim);
  });
  for (int64_t l = 0; l < c.n_layers; l++)
    forward_layer(l, act.layers[(size_t)l], l + 1 < c.n_layers ? act.layers[(size_t)l + 1].x_in : act.x_final, T);
  for_each_row(&pool, T, (double)dim * 4, [&](int64_t t) {
    act.rstd_final[t] = rmsnorm_forward(act.xn_final + t * dim, act.x_final + t * dim, out_norm, dim, eps);
  });

  // The head runs only on positions that carry loss (all of them when logits are asked for):
  // a weight-0 position's logits cannot change the loss or any gradient.
  int64_t n_head = 0;
  double wsum = 0.0;
  for (int64_t t = 0; t < T; t++) {
    wsum += (double)row.weights[t];
    if (logits_out || row.weights[t] > 0.0f) act.head_rows[(size_t)n_head++] = (int32_t)t;
  }
  const R* head_x = act.xn_final;
  if (n_head < T) {
    for_each_row(&pool, n_head, (double)dim, [&](int64_t j) {
      std::memcpy(act.head_in + j * dim, act.xn_final + act.head_rows[(size_t)j] * dim, (size_t)dim * sizeof(R));
    });
    head_x = act.head_in;
  }
  R* logits = act.logits;
  const Tensor* cls = &classifier.w;
  if (n_head > 0) dense_forward<R>(&pool, &cls, &logits, 1, head_x, n_head);
  if (logits_out) logits_out->assign(logits, logits + T * V);
  for_each_row(&pool, n_head, (double)V * 16, [&](int64_t j) {
    const int64_t t = act.head_rows[(size_t)j];
    const R w = (R)row.weights[t];
    R* lj = logits + j * V;
    act.row_loss[(size_t)j] = backward ? cross_entropy_backward(lj, lj, V, row.targets[t], w, grad_scale)
                              : w == R(0) ? 0.0
                                          : (double)w * cross_entropy_loss(lj, V, row.targets[t]);
  });
  double loss = 0.0;
  for (int64_t j = 0; j < n_head; j++) loss += act.row_loss[(size_t)j];
  *loss_sum = loss;
  *weight_sum = wsum;
  if (!backward) return Status();

  // head backward: logits now hold dlogits (of the gathered rows)
  R* dhead = act.dxn;
  if (n_head > 0) dense_input_grad<R>(&pool, classifier.w, logits, n_head, dhead, false);
  if (classifier.param && n_head > 0)
    dense_weight_grad<R>(&pool, logits, head_x, n_head, V, dim, classifier.param->grad.data());
  R* dxn_final = dhead;
  if (n_head < T) {  // scatter back; rows without loss get exact zeros
    dxn_final = act.datt;
    std::memset(dxn_final, 0, (size_t)(T * dim) * sizeof(R));
    for (int64_t j = 0; j < n_head; j++)
      std::memcpy(dxn_final + act.head_rows[(size_t)j] * dim, dhead + j * dim, (size_t)dim * sizeof(R));
  }
  if (out_norm_p)
    for_each_share(&pool, dim, (double)T * dim, [&](int64_t j0, int64_t j1) {
      rmsnorm_weight_grad(out_norm_p->grad.data(), dxn_final, act.x_final, act.rstd_final, T, dim, j0, j1);
    });
  for_each_row(&pool, T, (double)dim * 6, [&](int64_t t) {
    rmsnorm_backward(act.dx + t * dim, dxn_final + t * dim, act.x_final + t * dim, out_norm, act.rstd_final[t], dim,
                     false);
  });
  for (int64_t l = c.n_layers - 1; l >= 0; l--) {
    const LayerActivations<R>& a = act.layers[(size_t)l];
    if (m.checkpoint_activations)  // refill the shared activations from the kept input
      forward_layer(l, a, l + 1 < c.n_layers ? act.layers[(size_t)l + 1].x_in : act.x_final, T);
    backward_layer(l, a, T);
  }
  if (embd_p)
    for_each_share(&pool, V, (double)T * dim, [&](int64_t v0, int64_t v1) {
      embedding_backward(embd_p->grad.data(), act.dx, row.tokens, T, dim, v0, v1);
    });
  return Status();
}

template <class R>
Status TrainGraphT<R>::forward_backward(ThreadPool& pool, const TrainRow& row, R grad_scale, uint64_t dropout_seed,
                                        double* loss_sum, double* weight_sum) {
  if (!impl_) return PD_ERROR(InvalidArgument, "training graph used before init");
  return impl_->run(pool, row, true, grad_scale, dropout_seed, loss_sum, weight_sum, nullptr);
}

template <class R>
Status TrainGraphT<R>::forward(ThreadPool& pool, const TrainRow& row, double* loss_sum, double* weight_sum,
                               std::vector<R>* logits) {
  if (!impl_) return PD_ERROR(InvalidArgument, "training graph used before init");
  return impl_->run(pool, row, false, R(0), 0, loss_sum, weight_sum, logits);
}

template class TrainGraphT<float>;
template class TrainGraphT<double>;
template Status full_params_from_model<float>(const Model&, ParamSetT<float>*);
template Status full_params_from_model<double>(const Model&, ParamSetT<double>*);

}  // namespace paddock
