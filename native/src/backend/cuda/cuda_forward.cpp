// The Llama forward on the device, mirroring model/llama_forward.cpp op for op:
//   per layer: rmsnorm -> q/k/v -> (LoRA) -> RoPE -> F16 KV cache -> attention_kv -> wo -> residual
//              rmsnorm -> gate/up -> (LoRA) -> SwiGLU -> down -> residual
// The residual stream x_ stays F32; wo and down (and their LoRA deltas) add straight into it.
// Matrices stay in their file types; which product runs depends on the chunk:
//  - up to kMatvecTokens tokens (decode, short chunks): the fused matvecs of quant_ops.h read
//    each weight byte once for all tokens (memory-bound, the decode speed). A layer is 7-8
//    launches: q/k/v with the attention RMSNorm fused (one launch per weight type), RoPE + KV
//    store, attention (split + merge), wo (+= x), gate/up with the FFN RMSNorm and SwiGLU
//    fused, down (+= x). LoRA on q/k/v or gate/up needs the normalised input in memory and its
//    deltas before RoPE / SwiGLU, so such a layer normalises into xb_ and runs them unfused.
//    Per-token values (position, RoPE row, token or input row) are uploaded to fixed device
//    buffers and read by the kernels, so a single-token step (T = 1, logits wanted) is captured
//    once as a CUDA graph and replayed (PADDOCK_CUDA_GRAPHS=0 turns graphs off); set_adapters
//    drops the graph (its pointers change).
//  - longer chunks dequantize the matrix a slab of rows at a time into one bounded BF16 scratch
//    (product_tuning.h; never a whole matrix: a 70B FFN matrix would take 470 MB) and run the
//    tensor-core GEMM per slab of output columns (compute-bound prefill); BF16 matrices are read
//    as they are, F32 matrices go through the F32 GEMM.
// Everything runs on the forward's own stream (capture needs one) and is waited for once per
// call, when the logits come back. The kMatvecTokens path and the graph are in
// cuda_forward_decode.cpp; the state both files share in cuda_forward_state.h.
#include "backend/cuda/cuda_forward.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "backend/cpu/ops.h"
#include "backend/cuda/attention.h"
#include "backend/cuda/cuda_forward_state.h"
#include "backend/cuda/gemm.h"
#include "backend/cuda/pointwise_ops.h"
#include "backend/cuda/product_tuning.h"
#include "backend/cuda/quant_ops.h"
#include "core/fp16.h"

namespace paddock {
namespace cuda_fwd {
CudaForward::~CudaForward() {
  drop_graph();
  if (s_) pd_gpu::stream_destroy(s_);
}

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
      if (m->type != DType::F32 && m->type != DType::BF16)
        largest = std::max(largest, weight_scratch_elements(m->rows, m->cols, slab_elements_));
  }
  if (first_ == 0) tok_embd_ = take_matrix(a, w.tok_embd);
  const bool tied_and_present = first_ == 0 && &w.classifier() == &w.tok_embd;
  classifier_ = tied_and_present ? tok_embd_ : take_matrix(a, w.classifier());
  output_norm_ = a.take_n<float>(dim);
  x_ = a.take_n<float>(T * dim);
  xb_ = a.take_n<float>(T * dim);
  q_ = a.take_n<float>(T * dim);
  kb_ = a.take_n<float>(T * kvd);
  vb_ = a.take_n<float>(T * kvd);
  hb_ = a.take_n<float>(T * hid);
  hb2_ = a.take_n<float>(T * hid);
  logits_ = a.take_n<float>(c_.vocab_size);
  const StepInputs in(T, c_.head_dim());
  step_in_ = static_cast<unsigned char*>(a.take(in.bytes));
  if (step_in_) {  // placing pass
    pos0_ = reinterpret_cast<int32_t*>(step_in_);
    tokens_ = reinterpret_cast<int32_t*>(step_in_ + in.tokens);
    rope_ = reinterpret_cast<float*>(step_in_ + in.rope);
  }
  pd_cuda::AttnDims ad;
  ad.T = std::min(T, kMatvecTokens);
  ad.n_heads = (int)c_.n_heads;
  ad.head_dim = (int)c_.head_dim();
  attn_scratch_ = a.take(pd_cuda::attention_kv_decode_scratch_bytes(ad, n_ctx_));
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

  const char* graphs_env = std::getenv("PADDOCK_CUDA_GRAPHS");
  graphs_ = !(graphs_env && std::strcmp(graphs_env, "0") == 0);
  PD_TRY(bind_device());
  if (!pd_gpu::stream_create(&s_)) return PD_ERROR(Internal, "CUDA forward: %s", pd_gpu::last_error().c_str());

  const bool gemm_path = max_chunk_ > kMatvecTokens;
  slab_elements_ = std::max<int64_t>(product_tuning().weight_slab_elements, 1);
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
  step_host_.assign(StepInputs(max_chunk_, c_.head_dim()).bytes, 0);
  lora_.assign(layers_.size(), {});
  return check_done("uploading the weights", true);
}

// The current device is per host thread, and decode runs on worker threads (the binding's):
// every entry point selects the context's device first (cheap when already current).
Status CudaForward::bind_device() {
  std::string why;
  if (!pd_gpu::set_device(device_, &why)) return PD_ERROR(Internal, "CUDA device %d: %s", device_, why.c_str());
  return Status();
}

// uploads: also wait for upload_bytes' copies, which run on the legacy stream (the forward's
// own stream does not wait for it).
Status CudaForward::check_done(const char* what, bool uploads) {
  if (!pd_gpu::check_launch(what) || !pd_gpu::synchronize(s_) || (uploads && !pd_gpu::synchronize(nullptr)))
    return PD_ERROR(Internal, "CUDA forward, %s: %s", what, pd_gpu::last_error().c_str());
  return Status();
}

// A copy ordered on the forward's stream (before the kernels, or the graph, that read it).
Status CudaForward::upload(void* dst, const void* src, size_t bytes, const char* what) {
  if (!pd_gpu::copy_h2d(dst, src, bytes, s_))
    return PD_ERROR(Internal, "uploading %s to the GPU failed: %s", what, pd_gpu::last_error().c_str());
  return Status();
}

// accumulate: y += W x (the residual stream), else y = W x.
void CudaForward::linear(const DeviceMatrix& W, MatInput& in, float* y, bool accumulate) {
  if (in.T <= kMatvecTokens) {
    pd_cuda::quant_matvec(W.type, W.data, W.rows, W.cols, in.x, in.T, y, accumulate, s_);
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
  d.beta = accumulate ? 1.0f : 0.0f;
  if (W.type == DType::F32) {  // F32 models stay (almost) exact: CUDA-core GEMM
    d.ab = Elem::F32;
    d.A = in.x;
    d.B = W.data;
  } else {
    d.ab = Elem::BF16;
    d.A = in.bf16();
    if (W.type != DType::BF16) {  // one GEMM per slab of output columns
      const int64_t slab = weight_slab_rows(W.rows, W.cols, slab_elements_);
      for (int64_t r0 = 0; r0 < W.rows; r0 += slab) {
        d.N = std::min(slab, W.rows - r0);
        pd_cuda::dequantize_rows(W.type, W.data, r0, d.N, W.cols, Elem::BF16, w_bf16_, s_);
        d.B = w_bf16_;
        d.C = y + r0;
        pd_cuda::gemm(d, s_);
      }
      return;
    }
    d.B = W.data;
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

// The pieces both layer paths (GEMM here, matvec in cuda_forward_decode.cpp) share.
pd_cuda::AttnDims CudaForward::attn_dims(int64_t T) const {
  pd_cuda::AttnDims ad;
  ad.T = T;
  ad.n_heads = (int)c_.n_heads;
  ad.n_kv_heads = (int)c_.n_kv_heads;
  ad.head_dim = (int)c_.head_dim();
  ad.scale = 1.0f / std::sqrt((float)c_.head_dim());
  return ad;
}

void CudaForward::add_attention_output(int64_t l, int64_t T) {
  MatInput att{xb_, c_.dim, T, act_bf16_, s_};
  linear(layers_[(size_t)(l - first_)].wo, att, x_, /*accumulate=*/true);
  apply_lora(l, LoraTarget::O, att, x_);  // LoRA deltas are additive: straight into the stream too
}

void CudaForward::gate_up_lora_swiglu(int64_t l, const MatInput& ffn_in) {
  apply_lora(l, LoraTarget::Gate, ffn_in, hb_);
  apply_lora(l, LoraTarget::Up, ffn_in, hb2_);
  pd_cuda::swiglu_forward(hb_, hb2_, ffn_in.T * c_.hidden_dim, Elem::F32, hb_, s_);
}

void CudaForward::add_ffn_output(int64_t l, int64_t T) {
  MatInput h{hb_, c_.hidden_dim, T, act_bf16_, s_};
  linear(layers_[(size_t)(l - first_)].down, h, x_, /*accumulate=*/true);
  apply_lora(l, LoraTarget::Down, h, x_);
}

void CudaForward::embed(int64_t T) {
  if (first_ == 0) pd_cuda::get_rows_f32(tok_embd_.type, tok_embd_.data, c_.dim, tokens_, T, x_, s_);
}

// The classifier over the last position, its final RMSNorm fused into the matvec.
void CudaForward::last_logits(int64_t T) {
  const pd_cuda::MatvecOut out{classifier_.type, classifier_.data, classifier_.rows, logits_};
  pd_cuda::quant_matvec_multi(&out, 1, c_.dim, x_ + (T - 1) * c_.dim, 1, output_norm_, c_.rms_eps, s_);
}

void CudaForward::run_layer(int64_t l, int64_t T, int64_t pos0) {
  const DeviceLayer& L = layers_[(size_t)(l - first_)];
  const int64_t dim = c_.dim, kvd = c_.kv_dim(), hd = c_.head_dim();
  // attention block
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
  pd_cuda::attention_kv(attn_dims(T), q_, L.k_cache, L.v_cache, pos0, xb_, s_);
  add_attention_output(l, T);

  // feed-forward block
  pd_cuda::rmsnorm_forward(x_, L.ffn_norm, T, dim, c_.rms_eps, Elem::F32, xb_, nullptr, s_);
  MatInput fn{xb_, dim, T, act_bf16_, s_};
  linear(L.gate, fn, hb_);
  linear(L.up, fn, hb2_);
  gate_up_lora_swiglu(l, fn);
  add_ffn_output(l, T);
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
  const StepInputs in(max_chunk_, hd);
  unsigned char* staged = step_host_.data();
  const int32_t pos0_i32 = (int32_t)pos0;
  std::memcpy(staged, &pos0_i32, sizeof(int32_t));
  if (first_ == 0) std::memcpy(staged + in.tokens, tokens, (size_t)T * sizeof(int32_t));
  for (int64_t t = 0; t < T; t++) {
    float* r = reinterpret_cast<float*>(staged + in.rope) + t * hd;
    rope_angles(pos0 + t, (int)hd, c_.rope_theta, freq_factors, c_.rope_linear_factor, r, r + hd / 2);
  }
  PD_TRY(upload(step_in_, staged, in.upload_bytes(T), "the position, tokens and RoPE rows"));
  if (first_ > 0) PD_TRY(upload(x_, x_in, (size_t)(T * dim) * sizeof(float), "the residual stream"));
  if (T <= kMatvecTokens) {
    if (T == 1 && want_logits && graphs_ && graph_warm_) {
      PD_TRY(run_decode_graph());
    } else {
      run_matvec_step(T, want_logits);
      graph_warm_ = true;
    }
  } else {
    embed(T);
    for (int64_t l = first_; l < c_.n_layers; l++) run_layer(l, T, pos0);
    if (want_logits) last_logits(T);
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
    PD_TRY(upload(L.k_cache + keep * kvd, k.data(), bytes, "the shifted keys"));
    PD_TRY(upload(L.v_cache + keep * kvd, v.data(), bytes, "the shifted values"));
  }
  return check_done("shift");
}

Status CudaForward::set_adapters(const std::vector<LoraStackEntry>& adapters) {
  PD_TRY(bind_device());
  drop_graph();  // it holds the old adapters' pointers (and their launches)
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
  return check_done("uploading the adapters", true);
}

}  // namespace cuda_fwd

Status create_cuda_forward(std::shared_ptr<const Model> model, const GpuOffload& offload,
                           std::unique_ptr<GpuForward>* out) {
  std::unique_ptr<cuda_fwd::CudaForward> f(new cuda_fwd::CudaForward());
  PD_TRY(f->init(std::move(model), offload));
  *out = std::move(f);
  return Status();
}

}  // namespace paddock
