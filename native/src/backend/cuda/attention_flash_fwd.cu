// Training attention forward (flash_attention_forward in attention.h): BF16 q/k/v/out, F32
// lse, causal within packed segments, grouped-query.
//
// Tensor-core kernel (head_dim 64 or 128): attention_fwd_mma.cuh, shared with inference prefill.
//
// SIMT fallback (other head dims, e.g. 8 for stories260K; unaligned pointers): one warp per
// query row, attn::warp_attend_row over [seg_start[t], t], as the inference kernel.
#include "backend/cuda/attention.h"
#include "backend/cuda/attention_flash_common.h"
#include "backend/cuda/attention_fwd_mma.cuh"

namespace pd_cuda {
namespace {

constexpr int kSimtWarps = 4;

__global__ void __launch_bounds__(kSimtWarps * 32) flash_fwd_simt_kernel(FlashArgs a) {
  __shared__ float q_s[kSimtWarps][attn::kMaxHeadDim];
  __shared__ float p_s[kSimtWarps][32];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, hd = a.head_dim;
  const int64_t rows = a.T * a.n_heads, row = (int64_t)blockIdx.x * kSimtWarps + warp;
  if (row >= rows) return;  // whole warps; no block barrier below
  const int64_t t = row / a.n_heads, kv_stride = (int64_t)a.n_kv_heads * hd;
  const int h = (int)(row % a.n_heads), kvh = h / a.group;
  for (int d = lane; d < hd; d += 32) q_s[warp][d] = attn::to_float(a.q[row * hd + d]) * a.scale;
  __syncwarp();
  attn::RowSoftmax st;
  attn::warp_attend_row(q_s[warp], a.k + kvh * hd, a.v + kvh * hd, kv_stride, hd, (int64_t)a.seg_start[t], t,
                        a.vec16, p_s[warp], st);
  const float l = pd_warp_sum(st.l_lane), inv = 1.0f / l;
ATTN_UNROLL
  for (int i = 0; i < attn::kDimsPerLane; i++)
    if (lane + 32 * i < hd) a.out[row * hd + lane + 32 * i] = __float2bfloat16_rn(st.acc[i] * inv);
  if (lane == 0) a.lse[row] = st.m + __logf(l);
}

}  // namespace

void flash_attention_forward(const AttnDims& d, const pd_bf16* q, const pd_bf16* k, const pd_bf16* v,
                             const int32_t* seg_start, pd_bf16* out, float* lse, pd_stream_t s) {
  if (d.T <= 0) return;
  FlashArgs a = flash_args(d, q, k, v, seg_start, out, lse, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr);
  const FlashPath path = flash_path(d, a);
  if (path == FlashPath::kSimt) {
    pd_launch(flash_fwd_simt_kernel, dim3((unsigned)pd_ceil_div(d.T * d.n_heads, kSimtWarps)),
              dim3(kSimtWarps * 32), 0, s, a);
    return;
  }
  attn::FwdMmaArgs<pd_bf16> m{};
  m.q = q;
  m.k = k;
  m.v = v;
  m.seg_start = seg_start;
  m.out = out;
  m.lse = lse;
  m.T = d.T;
  m.n_heads = d.n_heads;
  m.n_kv_heads = d.n_kv_heads;
  m.group = d.n_heads / d.n_kv_heads;
  m.scale = d.scale;
  attn::launch_fwd_mma(m, d.head_dim, s);
}

}  // namespace pd_cuda
