// The Llama forward on the device, mirroring model/llama_forward.cpp op for op:
//   per layer: rmsnorm -> q/k/v -> (LoRA) -> RoPE -> F16 KV cache -> attention_kv -> wo -> residual
//              rmsnorm -> gate/up -> (LoRA) -> SwiGLU -> down -> residual
// The residual stream stays F32. Matrices stay in their file types; which product runs depends
// on the chunk: up to kMatvecTokens tokens (decode, short chunks) quant_matvec reads each weight
// byte once for all tokens (memory-bound, the decode speed); longer chunks dequantize the matrix
// into one BF16 scratch (the largest matrix) and run the tensor-core GEMM (compute-bound
// prefill), F32 matrices going through the F32 GEMM instead. Everything runs on one stream and
// is waited for once per call, when the logits come back.
#include "backend/cuda/cuda_forward.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "backend/cpu/ops.h"
#include "backend/cuda/attention.h"
#include "backend/cuda/cuda_weights.h"
#include "backend/cuda/gemm.h"
#include "backend/cuda/pointwise_ops.h"
#include "backend/cuda/quant_ops.h"
#include "core/fp16.h"

namespace paddock {
namespace {

using pd_cuda::Elem;

constexpr int64_t kMatvecTokens = 8;  // quant_matvec up to here, dequantize + GEMM beyond

struct DeviceLayer {
  float* attn_norm = nullptr;
  float* ffn_norm = nullptr;
  DeviceMatrix wq, wk, wv, wo, gate, up, down;
  pd_half* k_cache = nullptr;  // [n_ctx][kv_dim]
  pd_half* v_cache = nullptr;
};

// One adapter's pair for one matrix, F32 on the device: y += scale * B (A x).
struct DeviceLoraPair {
  const float* a = nullptr;  // [rank][n_in]
  const float* b = nullptr;  // [n_out][rank]
  int64_t rank = 0, n_in = 0, n_out = 0;
  float scale = 0.0f;
};

// A matrix input [T][n] F32 whose BF16 copy (for the tensor-core path) is made on first use
// and shared by the matrices reading the same input (q, k, v; gate, up).
struct MatInput {
  const float* x;
  int64_t n, T;
  pd_bf16* bf16_scratch;
  pd_stream_t s;
  bool converted = false;
  const pd_bf16* bf16() {
    if (!converted) pd_cuda::convert(x, Elem::F32, bf16_scratch, Elem::BF16, T * n, s);
    converted = true;
    return bf16_scratch;
  }
};

class CudaForward final : public GpuForward {
 public:
  int64_t first_layer() const override { return first_; }
  uint64_t device_bytes() const override { return arena_.allocated() + lora_arena_.allocated(); }

  Status init(std::shared_ptr<const Model> model, const GpuOffload& o);
  Status forward(const int32_t* tokens, const float* x_in, int64_t T, int64_t pos0, bool want_logits,
                 float* logits) override;
  Status shift(int64_t keep, int64_t discard, int64_t n_past) override;
  Status set_adapters(const std::vector<LoraStackEntry>& adapters) override;

 private:
  std::shared_ptr<const Model> model_;
  LlamaConfig c_;
  int64_t first_ = 0, n_ctx_ = 0, max_chunk_ = 0;
  int device_ = 0;
  pd_stream_t s_ = nullptr;  // the default stream
  DeviceArena arena_;        // weights, KV cache, scratch
  DeviceArena lora_arena_;   // adapters and their scratch
  std::vector<DeviceLayer> layers_;  // layers [first_, n_layers)
  DeviceMatrix tok_embd_, classifier_;
  float* output_norm_ = nullptr;
  // scratch, [max_chunk] rows each
  float *x_ = nullptr, *xb_ = nullptr, *xb2_ = nullptr, *q_ = nullptr, *kb_ = nullptr, *vb_ = nullptr;
  float *hb_ = nullptr, *hb2_ = nullptr, *rope_ = nullptr, *logits_ = nullptr;
  int32_t* tokens_ = nullptr;
  pd_bf16* act_bf16_ = nullptr;  // [max_chunk][max(dim, hidden)]  GEMM inputs
  pd_bf16* w_bf16_ = nullptr;    // the largest dequantized matrix
  std::vector<float> rope_host_;
  // adapters: [offloaded layer][target] -> pairs of the active adapters
  std::vector<std::array<std::vector<DeviceLoraPair>, kLoraTargetCount>> lora_;
  float* lora_ax_ = nullptr;  // [max_chunk][max rank]

  void layout(DeviceArena& a, bool gemm_path);
  Status check_done(const char* what);
  Status bind_device();
  void linear(const DeviceMatrix& W, MatInput& in, float* y);
  void apply_lora(int64_t layer, LoraTarget t, const MatInput& in, float* y);
  void run_layer(int64_t l, int64_t T, int64_t pos0);
};

// Places every device block (sizing pass when the arena has no memory yet, placing pass after).
void CudaForward::layout(DeviceArena& a, bool gemm_path) {
  const LlamaWeights& w = model_->weights;
  const int64_t dim = c_.dim, hid = c_.hidden_dim, kvd = c_.kv_dim(), T = max_chunk_;
  int64_t largest = 0;
  layers_.assign((size_t)(c_.n_layers - first_), DeviceLayer());
  for (int64_t l = first_; l < c_.n_layers; l++) {
    const LlamaLayer& H = w.layers[(size_t)l];
    DeviceLayer& D = layers_[(size_t)(l - first_)];
    D.attn_norm = a.take_n<float>(dim);
    D.ffn_norm = a.take_n<float>(dim);
    D.wq = take_matrix(a, H.wq);
    D.wk = take_matrix(a, H.wk);
    D.wv = take_matrix(a, H.wv);
    D.wo = take_matrix(a, H.wo);
    D.gate = take_matrix(a, H.w_gate);
    D.up = take_matrix(a, H.w_up);
    D.down = take_matrix(a, H.w_down);
    D.k_cache = a.take_n<pd_half>(n_ctx_ * kvd);
    D.v_cache = a.take_n<pd_half>(n_ctx_ * kvd);
    for (const DeviceMatrix* m : {&D.wq, &D.wk, &D.wv, &D.wo, &D.gate, &D.up, &D.down})
      if (m->type != DType::F32 && m->type != DType::BF16) largest = std::max(largest, m->rows * m->cols);
  }
  if (first_ == 0) tok_embd_ = take_matrix(a, w.tok_embd);
  const bool tied_and_present = first_ == 0 && &w.classifier() == &w.tok_embd;
  classifier_ = tied_and_present ? tok_embd_ : take_matrix(a, w.classifier());
  output_norm_ = a.take_n<float>(dim);
  x_ = a.take_n<float>(T * dim);
  xb_ = a.take_n<float>(T * dim);
  xb2_ = a.take_n<float>(T * dim);
  q_ = a.take_n<float>(T * dim);
  kb_ = a.take_n<float>(T * kvd);
  vb_ = a.take_n<float>(T * kvd);
  hb_ = a.take_n<float>(T * hid);
  hb2_ = a.take_n<float>(T * hid);
  rope_ = a.take_n<float>(T * c_.head_dim());
  logits_ = a.take_n<float>(c_.vocab_size);
  tokens_ = a.take_n<int32_t>(T);
  act_bf16_ = gemm_path ? a.take_n<pd_bf16>(T * std::max(dim, hid)) : nullptr;
  w_bf16_ = gemm_path && largest > 0 ? a.take_n<pd_bf16>(largest) : nullptr;
}

Status CudaForward::init(std::shared_ptr<const Model> model, const GpuOffload& o) {
  model_ = std::move(model);
  c_ = model_->config;
  const LlamaWeights& w = model_->weights;
  const int64_t gpu_layers = o.gpu_layers < 0 ? c_.n_layers : std::min(o.gpu_layers, c_.n_layers);
  if (gpu_layers < 1) return PD_ERROR(InvalidArgument, "the CUDA forward needs at least one layer on the GPU");
  if (o.n_ctx < 1)
    return PD_ERROR(InvalidArgument, "the CUDA forward needs a context length (got %lld)", (long long)o.n_ctx);
  first_ = c_.n_layers - gpu_layers;
  n_ctx_ = o.n_ctx;
  device_ = o.device;
  max_chunk_ = std::max<int64_t>(1, std::min(o.max_chunk, o.n_ctx));
  if (c_.head_dim() > 256 || c_.head_dim() % 2 != 0)
    return PD_ERROR(Unsupported, "head size %lld is not supported by the CUDA attention", (long long)c_.head_dim());

  // Types first: nothing is allocated for a model the kernels cannot run.
  for (int64_t l = first_; l < c_.n_layers; l++) {
    const LlamaLayer& L = w.layers[(size_t)l];
    PD_TRY(check_f32_vector(L.attn_norm));
    PD_TRY(check_f32_vector(L.ffn_norm));
    for (const Tensor* t : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down}) PD_TRY(check_device_weight(*t));
  }
  if (first_ == 0) PD_TRY(check_device_weight(w.tok_embd));
  PD_TRY(check_device_weight(w.classifier()));
  PD_TRY(check_f32_vector(w.output_norm));

  const bool gemm_path = max_chunk_ > kMatvecTokens;
  layout(arena_, gemm_path);  // sizing
  char what[160];
  std::snprintf(what, sizeof(what), "%lld of %lld layers with a %lld-position KV cache", (long long)gpu_layers,
                (long long)c_.n_layers, (long long)n_ctx_);
  PD_TRY(arena_.allocate(what));
  layout(arena_, gemm_path);  // placing

  for (int64_t l = first_; l < c_.n_layers; l++) {
    const LlamaLayer& H = w.layers[(size_t)l];
    const DeviceLayer& D = layers_[(size_t)(l - first_)];
    PD_TRY(upload_bytes(D.attn_norm, H.attn_norm.data, (size_t)c_.dim * sizeof(float), H.attn_norm.name.c_str()));
    PD_TRY(upload_bytes(D.ffn_norm, H.ffn_norm.data, (size_t)c_.dim * sizeof(float), H.ffn_norm.name.c_str()));
    for (const DeviceMatrix* m : {&D.wq, &D.wk, &D.wv, &D.wo, &D.gate, &D.up, &D.down}) PD_TRY(upload_matrix(*m));
  }
  if (first_ == 0) PD_TRY(upload_matrix(tok_embd_));
  if (classifier_.data != tok_embd_.data) PD_TRY(upload_matrix(classifier_));
  PD_TRY(upload_bytes(output_norm_, w.output_norm.data, (size_t)c_.dim * sizeof(float), "output_norm"));
  rope_host_.resize((size_t)(max_chunk_ * c_.head_dim()));
  lora_.assign(layers_.size(), {});
  return check_done("uploading the weights");
}

// The current device is per host thread, and decode runs on worker threads (the binding's):
// every entry point selects the context's device first (cheap when already current).
Status CudaForward::bind_device() {
  std::string why;
  if (!pd_gpu::set_device(device_, &why)) return PD_ERROR(Internal, "CUDA device %d: %s", device_, why.c_str());
  return Status();
}

Status CudaForward::check_done(const char* what) {
  if (!pd_gpu::check_launch(what) || !pd_gpu::synchronize(s_))
    return PD_ERROR(Internal, "CUDA forward, %s: %s", what, pd_gpu::last_error().c_str());
  return Status();
}

void CudaForward::linear(const DeviceMatrix& W, MatInput& in, float* y) {
  if (in.T <= kMatvecTokens) {
    pd_cuda::quant_matvec(W.type, W.data, W.rows, W.cols, in.x, in.T, y, false, s_);
    return;
  }
  pd_cuda::GemmDesc d;
  d.op = pd_cuda::GemmOp::NT;
  d.c = Elem::F32;
  d.M = in.T;
  d.N = W.rows;
  d.K = W.cols;
  d.lda = d.ldb = W.cols;
  d.C = y;
  d.ldc = W.rows;
  if (W.type == DType::F32) {  // F32 models stay (almost) exact: CUDA-core GEMM
    d.ab = Elem::F32;
    d.A = in.x;
    d.B = W.data;
  } else {
    d.ab = Elem::BF16;
    d.A = in.bf16();
    if (W.type == DType::BF16) {
      d.B = W.data;
    } else {
      pd_cuda::dequantize_rows(W.type, W.data, 0, W.rows, W.cols, Elem::BF16, w_bf16_, s_);
      d.B = w_bf16_;
    }
  }
  pd_cuda::gemm(d, s_);
}

// y += s B (A x) for every active adapter on (layer, t), as LoraStack::apply: two F32 GEMMs,
// the second accumulating into y with alpha = s.
void CudaForward::apply_lora(int64_t layer, LoraTarget t, const MatInput& in, float* y) {
  for (const DeviceLoraPair& p : lora_[(size_t)(layer - first_)][(size_t)t]) {
    pd_cuda::GemmDesc d;
    d.op = pd_cuda::GemmOp::NT;
    d.ab = d.c = Elem::F32;
    d.M = in.T;
    d.N = p.rank;
    d.K = p.n_in;
    d.A = in.x;
    d.lda = p.n_in;
    d.B = p.a;
    d.ldb = p.n_in;
    d.C = lora_ax_;
    d.ldc = p.rank;
    pd_cuda::gemm(d, s_);
    d.N = p.n_out;
    d.K = p.rank;
    d.A = lora_ax_;
    d.lda = p.rank;
    d.B = p.b;
    d.ldb = p.rank;
    d.C = y;
    d.ldc = p.n_out;
    d.alpha = p.scale;
    d.beta = 1.0f;
    pd_cuda::gemm(d, s_);
  }
}

void CudaForward::run_layer(int64_t l, int64_t T, int64_t pos0) {
  const DeviceLayer& L = layers_[(size_t)(l - first_)];
  const int64_t dim = c_.dim, hid = c_.hidden_dim, kvd = c_.kv_dim(), hd = c_.head_dim();
  // attention block; the previous layer's FFN output is added to the stream first
  if (l > first_) pd_cuda::add_inplace(x_, xb2_, T * dim, s_);
  pd_cuda::rmsnorm_forward(x_, L.attn_norm, T, dim, c_.rms_eps, Elem::F32, xb_, nullptr, s_);
  MatInput xn{xb_, dim, T, act_bf16_, s_};
  linear(L.wq, xn, q_);
  linear(L.wk, xn, kb_);
  linear(L.wv, xn, vb_);
  apply_lora(l, LoraTarget::Q, xn, q_);  // before RoPE: the adapter adds to W x itself
  apply_lora(l, LoraTarget::K, xn, kb_);
  apply_lora(l, LoraTarget::V, xn, vb_);
  pd_cuda::rope_forward(q_, T, (int)c_.n_heads, (int)hd, rope_, s_);
  pd_cuda::rope_forward(kb_, T, (int)c_.n_kv_heads, (int)hd, rope_, s_);
  pd_cuda::convert(kb_, Elem::F32, L.k_cache + pos0 * kvd, Elem::F16, T * kvd, s_);
  pd_cuda::convert(vb_, Elem::F32, L.v_cache + pos0 * kvd, Elem::F16, T * kvd, s_);
  pd_cuda::AttnDims ad;
  ad.T = T;
  ad.n_heads = (int)c_.n_heads;
  ad.n_kv_heads = (int)c_.n_kv_heads;
  ad.head_dim = (int)hd;
  ad.scale = 1.0f / std::sqrt((float)hd);
  pd_cuda::attention_kv(ad, q_, L.k_cache, L.v_cache, pos0, xb_, s_);
  MatInput att{xb_, dim, T, act_bf16_, s_};
  linear(L.wo, att, xb2_);
  apply_lora(l, LoraTarget::O, att, xb2_);

  // feed-forward block
  pd_cuda::add_inplace(x_, xb2_, T * dim, s_);
  pd_cuda::rmsnorm_forward(x_, L.ffn_norm, T, dim, c_.rms_eps, Elem::F32, xb_, nullptr, s_);
  MatInput fn{xb_, dim, T, act_bf16_, s_};
  linear(L.gate, fn, hb_);
  linear(L.up, fn, hb2_);
  apply_lora(l, LoraTarget::Gate, fn, hb_);
  apply_lora(l, LoraTarget::Up, fn, hb2_);
  pd_cuda::swiglu_forward(hb_, hb2_, T * hid, Elem::F32, hb_, s_);
  MatInput h{hb_, hid, T, act_bf16_, s_};
  linear(L.down, h, xb2_);
  apply_lora(l, LoraTarget::Down, h, xb2_);
}

Status CudaForward::forward(const int32_t* tokens, const float* x_in, int64_t T, int64_t pos0, bool want_logits,
                            float* logits) {
  if (T < 1 || T > max_chunk_ || pos0 < 0 || pos0 + T > n_ctx_) {
    return PD_ERROR(InvalidArgument,
                    "CUDA forward: %lld tokens at position %lld (chunks of at most %lld, context %lld)", (long long)T,
                    (long long)pos0, (long long)max_chunk_, (long long)n_ctx_);
  }
  if (first_ > 0 && !x_in)
    return PD_ERROR(InvalidArgument, "CUDA forward from layer %lld needs the residual stream", (long long)first_);
  PD_TRY(bind_device());
  const int64_t dim = c_.dim, hd = c_.head_dim();
  // The CPU's own float angles (Llama 3 factors and linear scaling included), so both backends
  // rotate identically.
  const Tensor& freqs = model_->weights.rope_freqs;
  const float* freq_factors = freqs.empty() ? nullptr : (const float*)freqs.data;
  for (int64_t t = 0; t < T; t++) {
    float* r = rope_host_.data() + t * hd;
    rope_angles(pos0 + t, (int)hd, c_.rope_theta, freq_factors, c_.rope_linear_factor, r, r + hd / 2);
  }
  PD_TRY(upload_bytes(rope_, rope_host_.data(), (size_t)(T * hd) * sizeof(float), "the RoPE table"));
  if (first_ == 0) {
    PD_TRY(upload_bytes(tokens_, tokens, (size_t)T * sizeof(int32_t), "the tokens"));
    pd_cuda::get_rows_f32(tok_embd_.type, tok_embd_.data, dim, tokens_, T, x_, s_);
  } else {
    PD_TRY(upload_bytes(x_, x_in, (size_t)(T * dim) * sizeof(float), "the residual stream"));
  }
  for (int64_t l = first_; l < c_.n_layers; l++) run_layer(l, T, pos0);
  // The last layer's FFN output, for the last token only: nothing reads the other rows again.
  float* last = x_ + (T - 1) * dim;
  pd_cuda::add_inplace(last, xb2_ + (T - 1) * dim, dim, s_);
  if (want_logits) {
    pd_cuda::rmsnorm_forward(last, output_norm_, 1, dim, c_.rms_eps, Elem::F32, xb_, nullptr, s_);
    pd_cuda::quant_matvec(classifier_.type, classifier_.data, classifier_.rows, classifier_.cols, xb_, 1, logits_,
                          false, s_);
  }
  PD_TRY(check_done("forward"));
  if (want_logits && !pd_gpu::copy_d2h(logits, logits_, (size_t)c_.vocab_size * sizeof(float), s_))
    return PD_ERROR(Internal, "CUDA forward: reading the logits back failed: %s", pd_gpu::last_error().c_str());
  return check_done("reading the logits");
}

// Rare (a full context), so done on the host: keys of the moved positions are read back,
// rotated by -discard exactly as LlamaContext::shift does, and written at their new place.
Status CudaForward::shift(int64_t keep, int64_t discard, int64_t n_past) {
  if (keep < 0 || discard <= 0 || keep + discard > n_past || n_past > n_ctx_)
    return PD_ERROR(InvalidArgument, "CUDA shift: keep %lld, discard %lld, past %lld", (long long)keep,
                    (long long)discard, (long long)n_past);
  const int64_t moved = n_past - keep - discard, kvd = c_.kv_dim(), hd = c_.head_dim();
  if (moved == 0) return Status();
  PD_TRY(bind_device());
  const Tensor& freqs = model_->weights.rope_freqs;
  const float* freq_factors = freqs.empty() ? nullptr : (const float*)freqs.data;
  std::vector<float> rot((size_t)hd), key((size_t)kvd);
  rope_angles(-discard, (int)hd, c_.rope_theta, freq_factors, c_.rope_linear_factor, rot.data(), rot.data() + hd / 2);
  std::vector<uint16_t> k((size_t)(moved * kvd)), v((size_t)(moved * kvd));
  const size_t bytes = k.size() * sizeof(uint16_t);
  for (const DeviceLayer& L : layers_) {
    if (!pd_gpu::copy_d2h(k.data(), L.k_cache + (keep + discard) * kvd, bytes, s_) ||
        !pd_gpu::copy_d2h(v.data(), L.v_cache + (keep + discard) * kvd, bytes, s_) || !pd_gpu::synchronize(s_))
      return PD_ERROR(Internal, "CUDA shift: reading the KV cache failed: %s", pd_gpu::last_error().c_str());
    for (int64_t p = 0; p < moved; p++) {
      uint16_t* row = k.data() + p * kvd;
      for (int64_t i = 0; i < kvd; i++) key[(size_t)i] = fp16_to_fp32(row[i]);
      rope_apply(key.data(), (int)c_.n_kv_heads, (int)hd, rot.data(), rot.data() + hd / 2);
      for (int64_t i = 0; i < kvd; i++) row[i] = fp32_to_fp16(key[(size_t)i]);
    }
    PD_TRY(upload_bytes(L.k_cache + keep * kvd, k.data(), bytes, "the shifted keys"));
    PD_TRY(upload_bytes(L.v_cache + keep * kvd, v.data(), bytes, "the shifted values"));
  }
  return check_done("shift");
}

Status CudaForward::set_adapters(const std::vector<LoraStackEntry>& adapters) {
  PD_TRY(bind_device());
  lora_.assign(layers_.size(), {});
  lora_arena_.release();
  lora_ax_ = nullptr;
  // Two passes over the same walk, as for the weights: size, then place and upload.
  auto walk = [&](bool place) -> Status {
    int64_t max_rank = 0;
    for (const LoraStackEntry& e : adapters) {
      if (!e.adapter || e.scale == 0.0f) continue;
      const LoraWeights& w = e.adapter->weights;
      if ((int64_t)w.layers.size() != c_.n_layers)
        return PD_ERROR(InvalidArgument, "adapter %s has %zu layers, the model %lld", e.adapter->source.c_str(),
                        w.layers.size(), (long long)c_.n_layers);
      for (int64_t l = first_; l < c_.n_layers; l++) {
        for (int t = 0; t < kLoraTargetCount; t++) {
          const LoraWeights::Pair& p = w.layers[(size_t)l][(size_t)t];
          if (!p.a) continue;
          DeviceLoraPair d;
          d.rank = p.a->rows;
          d.n_in = p.a->cols;
          d.n_out = p.b->rows;
          d.scale = e.scale * e.adapter->config.scale();
          float* a = lora_arena_.take_n<float>(d.rank * d.n_in);
          float* b = lora_arena_.take_n<float>(d.n_out * d.rank);
          max_rank = std::max(max_rank, d.rank);
          if (!place) continue;
          PD_TRY(upload_bytes(a, p.a->value.data(), (size_t)(d.rank * d.n_in) * sizeof(float), p.a->name.c_str()));
          PD_TRY(upload_bytes(b, p.b->value.data(), (size_t)(d.n_out * d.rank) * sizeof(float), p.b->name.c_str()));
          d.a = a;
          d.b = b;
          lora_[(size_t)(l - first_)][(size_t)t].push_back(d);
        }
      }
    }
    float* ax = lora_arena_.take_n<float>(max_chunk_ * max_rank);
    if (place) lora_ax_ = ax;
    return Status();
  };
  PD_TRY(walk(false));
  if (lora_arena_.bytes_needed() == 0) return Status();  // no active adapter
  PD_TRY(lora_arena_.allocate("the LoRA adapters"));
  Status st = walk(true);
  if (!st.ok()) {
    lora_.assign(layers_.size(), {});
    lora_arena_.release();
    return st;
  }
  return check_done("uploading the adapters");
}

}  // namespace

Status create_cuda_forward(std::shared_ptr<const Model> model, const GpuOffload& offload,
                           std::unique_ptr<GpuForward>* out) {
  std::unique_ptr<CudaForward> f(new CudaForward());
  PD_TRY(f->init(std::move(model), offload));
  *out = std::move(f);
  return Status();
}

}  // namespace paddock
