// What the training attention kernels (attention_flash_fwd.cu, attention_flash_bwd.cu) share
// on the host side: their argument block and the choice of kernel family for a shape.
#pragma once

#include <cstdint>

#include "backend/cuda/attention.h"

namespace pd_cuda {

struct FlashArgs {
  const pd_bf16* q;
  const pd_bf16* k;
  const pd_bf16* v;
  const int32_t* seg_start;
  pd_bf16* out;        // forward's output
  float* lse;          // forward writes it, backward reads it
  const pd_bf16* o;    // backward: the forward's output
  const pd_bf16* dout;
  float* dq;
  float* dk;
  float* dv;
  float* delta;        // backward: rowsum(dout * out) [T][n_heads] (workspace)
  int64_t T;
  int n_heads, n_kv_heads, group, head_dim;
  float scale;
  bool vec16;          // k and v rows are 16-byte aligned (SIMT loads)
};

inline FlashArgs flash_args(const AttnDims& d, const pd_bf16* q, const pd_bf16* k, const pd_bf16* v,
                            const int32_t* seg_start, pd_bf16* out, float* lse, const pd_bf16* o,
                            const pd_bf16* dout, float* dq, float* dk, float* dv, float* delta) {
  FlashArgs a{};
  a.q = q;
  a.k = k;
  a.v = v;
  a.seg_start = seg_start;
  a.out = out;
  a.lse = lse;
  a.o = o;
  a.dout = dout;
  a.dq = dq;
  a.dk = dk;
  a.dv = dv;
  a.delta = delta;
  a.T = d.T;
  a.n_heads = d.n_heads;
  a.n_kv_heads = d.n_kv_heads;
  a.group = d.n_heads / d.n_kv_heads;
  a.head_dim = d.head_dim;
  a.scale = d.scale;
  a.vec16 = d.head_dim % 8 == 0 && (uintptr_t)k % 16 == 0 && (uintptr_t)v % 16 == 0;
  return a;
}

enum class FlashPath { kMma64, kMma128, kSimt };

// Tensor cores for head_dim 64 / 128 when every BF16 row starts 16-byte aligned (cp.async);
// the SIMT kernels otherwise (same results to rounding).
inline FlashPath flash_path(const AttnDims& d, const FlashArgs& a) {
  auto aligned = [](const void* p) { return p == nullptr || (uintptr_t)p % 16 == 0; };
  const bool ok = aligned(a.q) && aligned(a.k) && aligned(a.v) && aligned(a.out) && aligned(a.o) &&
                  aligned(a.dout);
  if (ok && d.head_dim == 64) return FlashPath::kMma64;
  if (ok && d.head_dim == 128) return FlashPath::kMma128;
  return FlashPath::kSimt;
}

// The SIMT backward (attention_flash_bwd_simt.cu): dq, dk, dv given a.delta.
void flash_backward_simt(const FlashArgs& a, pd_stream_t s);

}  // namespace pd_cuda
