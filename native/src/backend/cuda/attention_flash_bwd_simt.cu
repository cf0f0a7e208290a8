// The SIMT training-attention backward, for head dims the tensor-core kernels do not take
// (stories260K's 8, odd sizes) or unaligned rows. Deterministic, like the tensor-core one:
//  - dq: one warp per query row (t, h) walks its keys [seg_start[t], t] 32 at a time: lane j
//    recomputes p and dS for key j (dot products with 16-byte loads), then lane i accumulates dq
//    dims i, i+32, ... over the chunk's keys (dS shared through a per-warp array);
//  - dk, dv: one warp per (key s, kv head) walks the queries that see s (t >= s in s's segment;
//    it stops at the first chunk with none, seg_start being nondecreasing) for every query head
//    of the GQA group, the same way round.
#include "backend/cuda/attention_flash_common.h"
#include "backend/cuda/attention_tiles.cuh"

namespace pd_cuda {
namespace {

constexpr int kWarps = 4;

__global__ void __launch_bounds__(kWarps * 32) flash_bwd_dq_simt_kernel(FlashArgs a) {
  __shared__ float q_s[kWarps][attn::kMaxHeadDim];
  __shared__ float do_s[kWarps][attn::kMaxHeadDim];
  __shared__ float ds_s[kWarps][32];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, hd = a.head_dim;
  const int64_t row = (int64_t)blockIdx.x * kWarps + warp;
  if (row >= a.T * a.n_heads) return;  // whole warps; no block barrier below
  const int64_t t = row / a.n_heads, kv_stride = (int64_t)a.n_kv_heads * hd;
  const int kvh = (int)(row % a.n_heads) / a.group;
  for (int d = lane; d < hd; d += 32) {
    q_s[warp][d] = attn::to_float(a.q[row * hd + d]) * a.scale;
    do_s[warp][d] = attn::to_float(a.dout[row * hd + d]);
  }
  __syncwarp();
  const float lse = a.lse[row], delta = a.delta[row];
  const pd_bf16* k = a.k + kvh * hd;
  const pd_bf16* v = a.v + kvh * hd;
  float acc[attn::kDimsPerLane] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int64_t base = a.seg_start[t]; base <= t; base += 32) {
    const int64_t key = base + lane;
    float ds = 0.0f;
    if (key <= t) {
      const float p = __expf(attn::dot_row(q_s[warp], k + key * kv_stride, hd, a.vec16) - lse);
      ds = p * (attn::dot_row(do_s[warp], v + key * kv_stride, hd, a.vec16) - delta);
    }
    __syncwarp();
    ds_s[warp][lane] = ds;
    __syncwarp();
    const int n = (int)(t - base + 1 < 32 ? t - base + 1 : 32);
    for (int j = 0; j < n; j++) {
      const float dsj = ds_s[warp][j];
      const pd_bf16* kr = k + (base + j) * kv_stride;
ATTN_UNROLL
      for (int i = 0; i < attn::kDimsPerLane; i++)
        if (lane + 32 * i < hd) acc[i] += dsj * attn::to_float(kr[lane + 32 * i]);
    }
  }
ATTN_UNROLL
  for (int i = 0; i < attn::kDimsPerLane; i++)
    if (lane + 32 * i < hd) a.dq[row * hd + lane + 32 * i] = acc[i] * a.scale;
}

__global__ void __launch_bounds__(kWarps * 32) flash_bwd_dkdv_simt_kernel(FlashArgs a) {
  __shared__ float k_s[kWarps][attn::kMaxHeadDim];
  __shared__ float v_s[kWarps][attn::kMaxHeadDim];
  __shared__ float p_s[kWarps][32];
  __shared__ float ds_s[kWarps][32];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, hd = a.head_dim;
  const int64_t item = (int64_t)blockIdx.x * kWarps + warp;  // (key, kv head), kv head fastest
  if (item >= a.T * a.n_kv_heads) return;
  const int64_t key = item / a.n_kv_heads, q_stride = (int64_t)a.n_heads * hd;
  const int kvh = (int)(item % a.n_kv_heads);
  for (int d = lane; d < hd; d += 32) {
    k_s[warp][d] = attn::to_float(a.k[item * hd + d]) * a.scale;
    v_s[warp][d] = attn::to_float(a.v[item * hd + d]);
  }
  __syncwarp();
  float dk[attn::kDimsPerLane] = {0, 0, 0, 0, 0, 0, 0, 0}, dv[attn::kDimsPerLane] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int hh = 0; hh < a.group; hh++) {
    const int h = kvh * a.group + hh;
    const pd_bf16* q = a.q + (int64_t)h * hd;
    const pd_bf16* dout = a.dout + (int64_t)h * hd;
    for (int64_t base = key; base < a.T; base += 32) {
      const int64_t t = base + lane;
      const bool sees = t < a.T && a.seg_start[t] <= key;
      if (__ballot_sync(0xffffffffu, sees) == 0) break;  // past the key's segment
      float p = 0.0f, ds = 0.0f;
      if (sees) {
        const int64_t th = t * a.n_heads + h;
        p = __expf(attn::dot_row(k_s[warp], q + t * q_stride, hd, a.vec16) - a.lse[th]);
        ds = p * (attn::dot_row(v_s[warp], dout + t * q_stride, hd, a.vec16) - a.delta[th]);
      }
      __syncwarp();
      p_s[warp][lane] = p;
      ds_s[warp][lane] = ds;
      __syncwarp();
      const int n = (int)(a.T - base < 32 ? a.T - base : 32);
      for (int j = 0; j < n; j++) {
        const float pj = p_s[warp][j], dsj = ds_s[warp][j];
        const pd_bf16* qr = q + (base + j) * q_stride;
        const pd_bf16* dr = dout + (base + j) * q_stride;
ATTN_UNROLL
        for (int i = 0; i < attn::kDimsPerLane; i++) {
          const int d = lane + 32 * i;
          if (d < hd) {
            dv[i] += pj * attn::to_float(dr[d]);
            dk[i] += dsj * attn::to_float(qr[d]);
          }
        }
      }
    }
  }
ATTN_UNROLL
  for (int i = 0; i < attn::kDimsPerLane; i++)
    if (lane + 32 * i < hd) {
      a.dk[item * hd + lane + 32 * i] = dk[i] * a.scale;
      a.dv[item * hd + lane + 32 * i] = dv[i];
    }
}

}  // namespace

void flash_backward_simt(const FlashArgs& args, pd_stream_t s) {
  FlashArgs a = args;
  a.vec16 = a.vec16 && (uintptr_t)a.q % 16 == 0 && (uintptr_t)a.dout % 16 == 0;  // q / dout rows too
  pd_launch(flash_bwd_dq_simt_kernel, dim3((unsigned)pd_ceil_div(a.T * a.n_heads, kWarps)), dim3(kWarps * 32), 0, s,
            a);
  pd_launch(flash_bwd_dkdv_simt_kernel, dim3((unsigned)pd_ceil_div(a.T * a.n_kv_heads, kWarps)), dim3(kWarps * 32),
            0, s, a);
}

}  // namespace pd_cuda
