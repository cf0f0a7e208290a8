// Training attention backward (flash_attention_backward in attention.h), FlashAttention-2 style
// and deterministic (no atomics):
//  1. delta = rowsum(dout * out) per (token, head), F32 in the workspace (one warp a row);
//  2. dq: per 64-query tile (as the forward's blocks), every key tile the rows can see:
//     recompute P = exp(scale Q K^T - lse), dP = dO V^T, dS = P (dP - delta), dQ += dS K;
//  3. dk, dv: per 64-key tile and kv head (so a GQA group's heads are summed in registers, in a
//     fixed order), every query tile that can see the keys: S^T = K Q^T, P^T, dP^T = V dO^T,
//     dV += P^T dO, dK += dS^T Q.
// Tensor-core kernels for head_dim 64 / 128: 4 warps, 16 rows of the 64-row tile each; all
// products on mma.m16n8k16 with the recomputed P / dS reused from the accumulators as BF16 A
// operands; tiles through shared memory by cp.async (dq: one key tile ahead). Tiles fully
// before a segment or above the diagonal are skipped (seg_start is nondecreasing), masks only
// on straddling tiles. The dk/dv kernel double-buffers its query tiles (the next one loads
// while this one computes) and, for head_dim 128, walks queries 32 at a time to keep its
// accumulators in registers. Other head dims: the SIMT kernels of attention_flash_bwd_simt.cu.
#include "backend/cuda/attention.h"
#include "backend/cuda/attention_flash_common.h"
#include "backend/cuda/attention_tiles.cuh"

namespace pd_cuda {
namespace {

constexpr int kBlock = 64, kWarps = 4;

__global__ void __launch_bounds__(128) flash_bwd_delta_kernel(FlashArgs a) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, hd = a.head_dim;
  const int64_t row = (int64_t)blockIdx.x * 4 + warp;
  if (row >= a.T * a.n_heads) return;
  float sum = 0.0f;
  for (int d = lane; d < hd; d += 32)
    sum += attn::to_float(a.dout[row * hd + d]) * attn::to_float(a.o[row * hd + d]);
  sum = pd_warp_sum(sum);
  if (lane == 0) a.delta[row] = sum;
}

template <int HD>
__global__ void __launch_bounds__(kWarps * 32) flash_bwd_dq_mma_kernel(FlashArgs a) {
  constexpr int LD = HD + 8;
  PD_DYNAMIC_SMEM(pd_bf16, smem);
  pd_bf16* q_t = smem;
  pd_bf16* do_t = q_t + kBlock * LD;
  pd_bf16* k_t = do_t + kBlock * LD;
  pd_bf16* v_t = k_t + kBlock * LD;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, qd = lane % 4;
  const int64_t m0 = (int64_t)(gridDim.x - 1 - blockIdx.x) * kBlock;  // longest tiles first
  const int h = blockIdx.y, kvh = h / a.group;
  const int64_t T = a.T, q_stride = (int64_t)a.n_heads * HD, kv_stride = (int64_t)a.n_kv_heads * HD;
  const int64_t last_row = min(T - 1, m0 + kBlock - 1);
  const int64_t seg_lo = a.seg_start[m0], seg_hi = a.seg_start[last_row];

  // Copy groups in flight, oldest first: (Q, dO), V(first), K(first); then one tile ahead.
  const int64_t n_first = seg_lo / kBlock * kBlock;
  attn::tile_load_async(q_t, LD, a.q, q_stride, (int64_t)h * HD, m0, kBlock, HD, T);
  attn::tile_load_async(do_t, LD, a.dout, q_stride, (int64_t)h * HD, m0, kBlock, HD, T);
  pd_cp_async_commit();
  attn::tile_load_async(v_t, LD, a.v, kv_stride, (int64_t)kvh * HD, n_first, kBlock, HD, T);
  pd_cp_async_commit();
  attn::tile_load_async(k_t, LD, a.k, kv_stride, (int64_t)kvh * HD, n_first, kBlock, HD, T);
  pd_cp_async_commit();
  int64_t row[2], lo[2];
  float lse[2], delta[2];
  for (int r = 0; r < 2; r++) {
    row[r] = m0 + warp * 16 + g + 8 * r;
    const bool in = row[r] < T;
    lo[r] = in ? a.seg_start[row[r]] : 0;
    lse[r] = in ? a.lse[row[r] * a.n_heads + h] : 0.0f;
    delta[r] = in ? a.delta[row[r] * a.n_heads + h] : 0.0f;
  }
  float dq[HD / 8][4] = {};

  // Single-buffered pipeline: the next V tile loads during Q K^T and dS K, the next K tile
  // during dO V^T.
  for (int64_t n0 = n_first; n0 <= last_row; n0 += kBlock) {
    const bool has_next = n0 + kBlock <= last_row;
    pd_cp_async_wait<1>();  // (Q, dO) and V(n0) have landed; K(n0) may still be in flight
    __syncthreads();
    float s[kBlock / 8][4] = {}, dp[kBlock / 8][4] = {};
ATTN_UNROLL
    for (int kk = 0; kk < HD / 16; kk += 2) {
      uint32_t da0[4], da1[4];
      attn::load_a_frag(da0, do_t, LD, warp * 16, kk * 16);
      attn::load_a_frag(da1, do_t, LD, warp * 16, kk * 16 + 16);
ATTN_UNROLL
      for (int nt = 0; nt < kBlock / 8; nt++) {
        uint32_t b[4];
        attn::load_b_frags_nk(b, v_t, LD, nt * 8, kk * 16);
        attn::mma(dp[nt], da0, b[0], b[1]);
        attn::mma(dp[nt], da1, b[2], b[3]);
      }
    }
    pd_cp_async_wait<0>();
    __syncthreads();  // K(n0) has landed, and every warp is done with V(n0)
    if (has_next) {
      attn::tile_load_async(v_t, LD, a.v, kv_stride, (int64_t)kvh * HD, n0 + kBlock, kBlock, HD, T);
      pd_cp_async_commit();
    }
ATTN_UNROLL
    for (int kk = 0; kk < HD / 16; kk += 2) {
      uint32_t qa0[4], qa1[4];
      attn::load_a_frag(qa0, q_t, LD, warp * 16, kk * 16);
      attn::load_a_frag(qa1, q_t, LD, warp * 16, kk * 16 + 16);
ATTN_UNROLL
      for (int nt = 0; nt < kBlock / 8; nt++) {
        uint32_t b[4];
        attn::load_b_frags_nk(b, k_t, LD, nt * 8, kk * 16);
        attn::mma(s[nt], qa0, b[0], b[1]);
        attn::mma(s[nt], qa1, b[2], b[3]);
      }
    }
    const bool needs_mask = n0 + kBlock - 1 > m0 || n0 < seg_hi;
ATTN_UNROLL
    for (int nt = 0; nt < kBlock / 8; nt++)
ATTN_UNROLL
      for (int e = 0; e < 4; e++) {
        const int r = e / 2;
        const int64_t key = n0 + nt * 8 + 2 * qd + (e % 2);
        const bool masked = needs_mask && (key > row[r] || key < lo[r]);
        const float p = masked ? 0.0f : __expf(s[nt][e] * a.scale - lse[r]);
        s[nt][e] = p * (dp[nt][e] - delta[r]);  // dS
      }
ATTN_UNROLL
    for (int kk = 0; kk < kBlock / 16; kk++) {
      uint32_t sa[4];
      attn::acc_to_a_frag(sa, s[2 * kk], s[2 * kk + 1]);
ATTN_UNROLL
      for (int dt = 0; dt < HD / 8; dt += 2) {
        uint32_t b[4];
        attn::load_b_frags_kn(b, k_t, LD, kk * 16, dt * 8);
        attn::mma(dq[dt], sa, b[0], b[1]);
        attn::mma(dq[dt + 1], sa, b[2], b[3]);
      }
    }
    if (has_next) {
      __syncthreads();  // every warp is done with K(n0)
      attn::tile_load_async(k_t, LD, a.k, kv_stride, (int64_t)kvh * HD, n0 + kBlock, kBlock, HD, T);
      pd_cp_async_commit();
    }
  }
  for (int r = 0; r < 2; r++) {
    if (row[r] >= T) continue;
    float* out = a.dq + row[r] * q_stride + (int64_t)h * HD;
ATTN_UNROLL
    for (int dt = 0; dt < HD / 8; dt++)
      *reinterpret_cast<float2*>(out + dt * 8 + 2 * qd) =
          make_float2(dq[dt][2 * r] * a.scale, dq[dt][2 * r + 1] * a.scale);
  }
}

template <int HD, int BQ>
__global__ void __launch_bounds__(kWarps * 32) flash_bwd_dkdv_mma_kernel(FlashArgs a) {
  static_assert(BQ <= kWarps * 32, "one thread per query of a tile for the row values");
  constexpr int LD = HD + 8;
  PD_DYNAMIC_SMEM(pd_bf16, smem);
  pd_bf16* k_t = smem;
  pd_bf16* v_t = k_t + kBlock * LD;
  pd_bf16* qdo_t = v_t + kBlock * LD;  // double-buffered [2][Q tile, dO tile]
  auto q_t = [&](int buf) { return qdo_t + buf * 2 * BQ * LD; };
  auto do_t = [&](int buf) { return qdo_t + buf * 2 * BQ * LD + BQ * LD; };
  float* rows_s = reinterpret_cast<float*>(qdo_t + 4 * BQ * LD);  // [2][3][BQ]: lse, delta, seg
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, qd = lane % 4;
  const int64_t n0 = (int64_t)blockIdx.x * kBlock;  // the first key tiles see the most queries
  const int kvh = blockIdx.y;
  const int64_t T = a.T, q_stride = (int64_t)a.n_heads * HD, kv_stride = (int64_t)a.n_kv_heads * HD;
  const int64_t n_last = n0 + kBlock - 1;

  // The query tiles that see some key of this tile: from the tile holding n0 up to the first
  // tile starting past the keys' segment (seg_start is nondecreasing); the same for every head.
  const int64_t q_first = n0 / BQ * BQ;
  int64_t q_end = q_first;
  while (q_end < T && a.seg_start[q_end] <= n_last) q_end += BQ;
  const int n_qt = (int)((q_end - q_first) / BQ), items = a.group * n_qt;  // >= 1: row n0 sees key n0

  // Work item i: query head kvh * group + i / n_qt, query tile q_first + (i % n_qt) * BQ.
  auto item_head = [&](int i) { return kvh * a.group + i / n_qt; };
  auto item_q0 = [&](int i) { return q_first + (int64_t)(i % n_qt) * BQ; };
  auto issue_tiles = [&](int i, int buf) {
    const int64_t col = (int64_t)item_head(i) * HD;
    attn::tile_load_async(q_t(buf), LD, a.q, q_stride, col, item_q0(i), BQ, HD, T);
    attn::tile_load_async(do_t(buf), LD, a.dout, q_stride, col, item_q0(i), BQ, HD, T);
    pd_cp_async_commit();
  };
  // Thread i < BQ carries query i's lse, delta and seg_start (a padding query sees no key).
  float row_lse = 0.0f, row_delta = 0.0f;
  int32_t row_seg = INT32_MAX;
  auto fetch_rows = [&](int i) {
    const int64_t t = item_q0(i) + threadIdx.x;
    const int h = item_head(i);
    const bool in = threadIdx.x < BQ && t < T;
    row_lse = in ? a.lse[t * a.n_heads + h] : 0.0f;
    row_delta = in ? a.delta[t * a.n_heads + h] : 0.0f;
    row_seg = in ? a.seg_start[t] : INT32_MAX;
  };
  auto store_rows = [&](int buf) {
    if (threadIdx.x < BQ) {
      float* r = rows_s + buf * 3 * BQ;
      r[threadIdx.x] = row_lse;
      r[BQ + threadIdx.x] = row_delta;
      reinterpret_cast<int32_t*>(r + 2 * BQ)[threadIdx.x] = row_seg;
    }
  };

  attn::tile_load_async(k_t, LD, a.k, kv_stride, (int64_t)kvh * HD, n0, kBlock, HD, T);
  attn::tile_load_async(v_t, LD, a.v, kv_stride, (int64_t)kvh * HD, n0, kBlock, HD, T);
  pd_cp_async_commit();
  if (items > 0) {
    issue_tiles(0, 0);
    fetch_rows(0);
    store_rows(0);
  }
  int64_t key[2];
  for (int r = 0; r < 2; r++) key[r] = n0 + warp * 16 + g + 8 * r;
  float dk[HD / 8][4] = {}, dv[HD / 8][4] = {};

  // Double-buffered: item i + 1's Q / dO tiles and row values load while item i computes.
  for (int it = 0; it < items; it++) {
    const int buf = it & 1;
    const bool has_next = it + 1 < items;
    if (has_next) {
      issue_tiles(it + 1, buf ^ 1);  // buf ^ 1's readers finished at the previous barrier
      fetch_rows(it + 1);
      pd_cp_async_wait<1>();
    } else {
      pd_cp_async_wait<0>();
    }
    __syncthreads();
    const pd_bf16* qb = q_t(buf);
    const pd_bf16* dob = do_t(buf);
    const float* lse_s = rows_s + buf * 3 * BQ;
    const float* delta_s = lse_s + BQ;
    const int32_t* seg_s = reinterpret_cast<const int32_t*>(lse_s + 2 * BQ);
    const int64_t q0 = item_q0(it);

    float s[BQ / 8][4] = {}, dp[BQ / 8][4] = {};
ATTN_UNROLL
    for (int kk = 0; kk < HD / 16; kk += 2) {
      uint32_t ka0[4], ka1[4], va0[4], va1[4];
      attn::load_a_frag(ka0, k_t, LD, warp * 16, kk * 16);
      attn::load_a_frag(ka1, k_t, LD, warp * 16, kk * 16 + 16);
      attn::load_a_frag(va0, v_t, LD, warp * 16, kk * 16);
      attn::load_a_frag(va1, v_t, LD, warp * 16, kk * 16 + 16);
ATTN_UNROLL
      for (int nt = 0; nt < BQ / 8; nt++) {
        uint32_t b[4];
        attn::load_b_frags_nk(b, qb, LD, nt * 8, kk * 16);
        attn::mma(s[nt], ka0, b[0], b[1]);
        attn::mma(s[nt], ka1, b[2], b[3]);
        attn::load_b_frags_nk(b, dob, LD, nt * 8, kk * 16);
        attn::mma(dp[nt], va0, b[0], b[1]);
        attn::mma(dp[nt], va1, b[2], b[3]);
      }
    }
    // Masks where some query of the tile may be before a key, in a later segment, or padding.
    const bool needs_mask = q0 < n_last || q0 + BQ > T || seg_s[BQ - 1] > n0;
ATTN_UNROLL
    for (int nt = 0; nt < BQ / 8; nt++)
ATTN_UNROLL
      for (int e = 0; e < 4; e++) {
        const int r = e / 2, qi = nt * 8 + 2 * qd + (e % 2);
        const bool masked = needs_mask && (q0 + qi < key[r] || seg_s[qi] > key[r]);
        const float p = masked ? 0.0f : __expf(s[nt][e] * a.scale - lse_s[qi]);
        s[nt][e] = p;
        dp[nt][e] = p * (dp[nt][e] - delta_s[qi]);  // dS^T
      }
ATTN_UNROLL
    for (int kq = 0; kq < BQ / 16; kq++) {
      uint32_t pa[4], sa[4];
      attn::acc_to_a_frag(pa, s[2 * kq], s[2 * kq + 1]);
      attn::acc_to_a_frag(sa, dp[2 * kq], dp[2 * kq + 1]);
ATTN_UNROLL
      for (int dt = 0; dt < HD / 8; dt += 2) {
        uint32_t b[4];
        attn::load_b_frags_kn(b, dob, LD, kq * 16, dt * 8);
        attn::mma(dv[dt], pa, b[0], b[1]);
        attn::mma(dv[dt + 1], pa, b[2], b[3]);
        attn::load_b_frags_kn(b, qb, LD, kq * 16, dt * 8);
        attn::mma(dk[dt], sa, b[0], b[1]);
        attn::mma(dk[dt + 1], sa, b[2], b[3]);
      }
    }
    if (has_next) store_rows(buf ^ 1);  // read after the next barrier
    __syncthreads();                    // every warp is done with buf before it is refilled
  }
  for (int r = 0; r < 2; r++) {
    if (key[r] >= T) continue;
    float* dk_row = a.dk + key[r] * kv_stride + (int64_t)kvh * HD;
    float* dv_row = a.dv + key[r] * kv_stride + (int64_t)kvh * HD;
ATTN_UNROLL
    for (int dt = 0; dt < HD / 8; dt++) {
      *reinterpret_cast<float2*>(dk_row + dt * 8 + 2 * qd) =
          make_float2(dk[dt][2 * r] * a.scale, dk[dt][2 * r + 1] * a.scale);
      *reinterpret_cast<float2*>(dv_row + dt * 8 + 2 * qd) = make_float2(dv[dt][2 * r], dv[dt][2 * r + 1]);
    }
  }
}

template <int HD, int BQ>
void launch_mma_backward(const FlashArgs& a, pd_stream_t s) {
  constexpr size_t row_bytes = (HD + 8) * sizeof(pd_bf16);
  const unsigned q_tiles = (unsigned)pd_ceil_div(a.T, kBlock);
  pd_launch(flash_bwd_dq_mma_kernel<HD>, dim3(q_tiles, (unsigned)a.n_heads), dim3(kWarps * 32),
            4 * kBlock * row_bytes, s, a);
  pd_launch(flash_bwd_dkdv_mma_kernel<HD, BQ>, dim3(q_tiles, (unsigned)a.n_kv_heads), dim3(kWarps * 32),
            (2 * kBlock + 4 * BQ) * row_bytes + 2 * 3 * BQ * sizeof(float), s, a);
}

}  // namespace

size_t flash_attention_workspace_bytes(const AttnDims& d) {
  return (size_t)(d.T * d.n_heads) * sizeof(float) + 256;
}

void flash_attention_backward(const AttnDims& d, const pd_bf16* q, const pd_bf16* k, const pd_bf16* v,
                              const int32_t* seg_start, const pd_bf16* out, const float* lse, const pd_bf16* dout,
                              float* dq, float* dk, float* dv, void* workspace, pd_stream_t s) {
  if (d.T <= 0) return;
  FlashArgs a = flash_args(d, q, k, v, seg_start, nullptr, const_cast<float*>(lse), out, dout, dq, dk, dv,
                           (float*)workspace);
  pd_launch(flash_bwd_delta_kernel, dim3((unsigned)pd_ceil_div(d.T * d.n_heads, 4)), dim3(128), 0, s, a);
  switch (flash_path(d, a)) {
    case FlashPath::kMma64: launch_mma_backward<64, 64>(a, s); break;
    case FlashPath::kMma128: launch_mma_backward<128, 32>(a, s); break;
    case FlashPath::kSimt: flash_backward_simt(a, s); break;
  }
}

}  // namespace pd_cuda
