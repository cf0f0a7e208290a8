// The per-token and element-wise ops of the Llama graph on the device, forward and backward,
// each matching its CPU reference (backend/cpu/ops.h, ops_grad.h) to float rounding:
// RMSNorm, RoPE (interleaved pairs, angles from a host-made table so both backends rotate by
// the same float angles), SwiGLU, residual adds, conversions, masked cross-entropy over a
// chunk of logits rows, and the fused AdamW update with the global gradient norm.
// Kernels: rmsnorm.cu, rope.cu, swiglu.cu, elementwise.cu, cross_entropy.cu, adamw.cu (shared
// device helpers in pointwise_common.cuh). Every op takes 16-byte vector accesses when its
// pointers (and row lengths) allow, else a scalar path; all reductions are in a fixed order, so
// every op gives the same bits on every run. All launches are asynchronous on stream s.
#pragma once

#include "backend/cuda/cuda_types.h"

namespace pd_cuda {

// out[t] = w * x[t] * rstd[t], rstd[t] = 1 / sqrt(mean(x[t]^2) + eps); x [T][n] F32; out in
// out_type (F32, BF16 or F16); rstd (optional, [T]) kept for backward. One block per row.
void rmsnorm_forward(const float* x, const float* w, int64_t T, int64_t n, float eps, Elem out_type, void* out,
                     float* rstd, pd_stream_t s);
// dx[t] (= or +=) rstd (dy w - x rstd^2 mean(dy w x)); dx may alias dy; dx nullptr: only dw.
// dw (optional, [n]) += sum_t dy x rstd, summed over t in a fixed order (deterministic, no
// atomics, no scratch).
void rmsnorm_backward(const float* dy, const float* x, const float* w, const float* rstd, int64_t T, int64_t n,
                      float* dx, bool accumulate, float* dw, pd_stream_t s);

// Rotates the interleaved pairs (x[2i], x[2i+1]) of every head of x [T][n_heads * hd] in
// place; rope [T][hd]: cos in the first hd/2, sin in the second (backend/cpu/ops.h rope_angles).
// backward rotates by minus the angle. F32 and BF16 forms. head_dim even; x aligned to a pair.
void rope_forward(float* x, int64_t T, int n_heads, int head_dim, const float* rope, pd_stream_t s);
void rope_forward_bf16(pd_bf16* x, int64_t T, int n_heads, int head_dim, const float* rope, pd_stream_t s);
void rope_backward(float* dx, int64_t T, int n_heads, int head_dim, const float* rope, pd_stream_t s);

// h = silu(g) * u over n elements (out_type F32, BF16 or F16); backward: dg = dh u silu'(g),
// du = dh silu(g) (F32; dg/du may alias the inputs).
void swiglu_forward(const float* g, const float* u, int64_t n, Elem out_type, void* h, pd_stream_t s);
void swiglu_backward(const float* dh, const float* g, const float* u, int64_t n, float* dg, float* du, pd_stream_t s);

// y += x (n F32).
void add_inplace(float* y, const float* x, int64_t n, pd_stream_t s);
// Conversions between F32, BF16 and F16, any direction (n elements, round to nearest even).
void convert(const void* x, Elem from, void* y, Elem to, int64_t n, pd_stream_t s);
// x *= a (n F32).
void scale_inplace(float* x, float a, int64_t n, pd_stream_t s);

// Masked cross-entropy over R rows of logits [R][V] F32 (overwritten in place by the
// gradient): row r has target targets[r] and weight weights[r] (device arrays);
// dlogits = grad_scale * w * (softmax - onehot); loss_out[r] = w * (logsumexp - logit[target])
// in F32 (a row with w = 0 writes 0 and zeros without reading its logits; a target outside
// [0, V) gives a NaN loss). dlogits_bf16 (optional, [R][V]) receives the gradient as BF16 for
// the tensor-core products that follow. One block per row; the row is read twice.
void cross_entropy_rows(float* logits, int64_t R, int64_t V, const int32_t* targets, const float* weights,
                        float grad_scale, float* loss_out, pd_bf16* dlogits_bf16, pd_stream_t s);

// Sum of squares of n F32 values into *out (device double), in fixed blocks added in a fixed
// order: the same bits on every run. accumulate: *out += instead of =. Two kernels; the partial
// sums live in a 4 KiB device buffer per stream, allocated on first use and kept for the process.
void sum_squares(const float* x, int64_t n, double* out, bool accumulate, pd_stream_t s);

// One AdamW step (torch.optim.AdamW) over n parameters: g *= clip_factor first, then decoupled
// weight decay and the bias-corrected update; bias1 = 1 - beta1^t, bias2 = 1 - beta2^t. The
// arithmetic is train/adamw.cpp adamw_step's, element by element. The args are doubles, given
// as the user wrote them (AdamWConfig): the kernel's constants (1 - beta2, lr / bias1, ...) are
// made from them in double and rounded once, as the CPU does; 1 - (double)0.999f would be
// 1.3e-5 off 0.001.
struct AdamWArgs {
  double lr, beta1, beta2, eps, weight_decay, clip_factor;
  double bias1, bias2;
};
void adamw_update(float* param, const float* grad, float* m, float* v, int64_t n, const AdamWArgs& a, pd_stream_t s);

}  // namespace pd_cuda
