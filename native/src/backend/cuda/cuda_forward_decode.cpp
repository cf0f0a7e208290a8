// The forward's kMatvecTokens path (decode, short chunks; the top of cuda_forward.cpp has the
// op list) and the CUDA graph that replays a single-token step. Nothing a kernel argument holds
// depends on the position or the token: those are uploaded by forward() into fixed buffers
// (pos0_, rope_, tokens_ or x_) before the launches or the graph run.
#include <cmath>

#include "backend/cuda/attention.h"
#include "backend/cuda/cuda_forward_state.h"
#include "backend/cuda/decode_fused.h"
#include "backend/cuda/quant_ops.h"

namespace paddock {
namespace cuda_fwd {

void CudaForward::drop_graph() {
  pd_gpu::graph_destroy(decode_graph_);
  decode_graph_ = nullptr;
  graph_warm_ = false;
}

bool CudaForward::has_lora(int64_t layer, std::initializer_list<LoraTarget> targets) const {
  for (LoraTarget t : targets)
    if (!lora_[(size_t)(layer - first_)][(size_t)t].empty()) return true;
  return false;
}

// The kMatvecTokens path of one layer (the op list: top of cuda_forward.cpp); the position
// comes from pos0_.
void CudaForward::run_layer_matvec(int64_t l, int64_t T) {
  const DeviceLayer& L = layers_[(size_t)(l - first_)];
  const int64_t dim = c_.dim, hid = c_.hidden_dim;
  const float eps = c_.rms_eps;
  // The normalised input in memory only when adapters read it; else each matvec block norms x_.
  auto norm_input = [&](const float* w, bool materialise, const float** X, const float** norm_w) {
    if (materialise) pd_cuda::rmsnorm_forward(x_, w, T, dim, eps, Elem::F32, xb_, nullptr, s_);
    *X = materialise ? xb_ : x_;
    *norm_w = materialise ? nullptr : w;
  };
  const float *X, *norm_w;
  const bool lora_qkv = has_lora(l, {LoraTarget::Q, LoraTarget::K, LoraTarget::V});
  norm_input(L.attn_norm, lora_qkv, &X, &norm_w);
  const pd_cuda::MatvecOut qkv[3] = {{L.wq.type, L.wq.data, L.wq.rows, q_},
                                     {L.wk.type, L.wk.data, L.wk.rows, kb_},
                                     {L.wv.type, L.wv.data, L.wv.rows, vb_}};
  pd_cuda::quant_matvec_multi(qkv, 3, dim, X, T, norm_w, eps, s_);
  if (lora_qkv) {
    MatInput xn{xb_, dim, T, act_bf16_, s_};
    apply_lora(l, LoraTarget::Q, xn, q_);  // before RoPE: the adapter adds to W x itself
    apply_lora(l, LoraTarget::K, xn, kb_);
    apply_lora(l, LoraTarget::V, xn, vb_);
  }
  pd_cuda::rope_store_kv(q_, kb_, vb_, T, (int)c_.n_heads, (int)c_.n_kv_heads, (int)c_.head_dim(), rope_, pos0_,
                         L.k_cache, L.v_cache, s_);
  pd_cuda::attention_kv_decode(attn_dims(T), q_, L.k_cache, L.v_cache, pos0_, n_ctx_, attn_scratch_, xb_, s_);
  add_attention_output(l, T);

  const bool lora_ffn = has_lora(l, {LoraTarget::Gate, LoraTarget::Up});
  if (!lora_ffn && L.gate.type == L.up.type) {
    pd_cuda::quant_matvec_swiglu(L.gate.type, L.gate.data, L.up.data, hid, dim, x_, T, L.ffn_norm, eps, hb_, s_);
  } else {  // adapters add to gate and up before SwiGLU (or two weight types): unfused
    norm_input(L.ffn_norm, lora_ffn, &X, &norm_w);
    const pd_cuda::MatvecOut gate_up[2] = {{L.gate.type, L.gate.data, hid, hb_}, {L.up.type, L.up.data, hid, hb2_}};
    pd_cuda::quant_matvec_multi(gate_up, 2, dim, X, T, norm_w, eps, s_);
    gate_up_lora_swiglu(l, MatInput{xb_, dim, T, act_bf16_, s_});
  }
  add_ffn_output(l, T);
}

// Embedding (first_ == 0), the layers and the logits of the last token, all through kernels
// whose arguments do not depend on the position: what a decode graph captures.
void CudaForward::run_matvec_step(int64_t T, bool want_logits) {
  embed(T);
  for (int64_t l = first_; l < c_.n_layers; l++) run_layer_matvec(l, T);
  if (want_logits) last_logits(T);
}

// One T = 1 step with logits as a graph: captured on first use, replayed after. The forward
// runs one plain matvec step first (graph_warm_), so lazy one-time work (module loading, a
// GEMM probe of an adapter's first product, which waits for the device) never happens inside a
// capture. A capture that fails turns graphs off for this forward and the step runs as plain
// launches.
Status CudaForward::run_decode_graph() {
  if (!decode_graph_) {
    bool captured = pd_gpu::graph_begin_capture(s_);
    if (captured) {
      run_matvec_step(1, true);
      captured = pd_gpu::graph_end_capture(s_, &decode_graph_);
    }
    if (!captured) {
      pd_gpu::check_launch("graph capture");  // clears the error: the plain path follows
      graphs_ = false;
      run_matvec_step(1, true);
      return Status();
    }
  }
  if (!pd_gpu::graph_launch(decode_graph_, s_))
    return PD_ERROR(Internal, "CUDA forward: graph launch failed: %s", pd_gpu::last_error().c_str());
  return Status();
}

}  // namespace cuda_fwd
}  // namespace paddock
