// The tensor-core attention forward shared by training (attention_flash_fwd.cu: BF16, packed
// segments, lse kept) and inference prefill (attention_kv.cu: F32 queries converted to F16 on
// load, the F16 KV cache, keys 0..pos0+t, F32 output). FlashAttention-2 forward, head_dim 64 or
// 128: a block of 4 warps owns 64 queries of one head, a warp 16 of them, its Q fragments held
// in registers. Key tiles of 64 stream through shared memory with cp.async, one tile ahead (the
// next K tile lands while P V runs, the next V tile while Q K^T runs; one buffer each, so two
// blocks fit an SM); S = Q K^T and O += P V run on mma.m16n8k16 (16-bit in, F32 accumulate)
// with the probabilities reused as the A operand straight from the S accumulators. The online
// softmax keeps a row max and sum per accumulator row (4 lanes share a row). Key tiles before
// the tile's first segment start or past its last query are never visited; masks are evaluated
// only on tiles that straddle the diagonal or a segment boundary. Blocks are issued longest
// (last query tile) first.
#pragma once

#include "backend/cuda/attention_tiles.cuh"

namespace pd_cuda {
namespace attn {

constexpr int kFwdBlockM = 64, kFwdBlockN = 64, kFwdWarps = 4;

template <class E>
struct FwdMmaArgs {
  const E* q;           // [T][n_heads * HD], or
  const float* q_f32;   // F32 queries (then q is null)
  const E* k;           // [n_keys][n_kv_heads * HD]
  const E* v;
  const int32_t* seg_start;  // null: every query sees keys from 0
  E* out;               // [T][n_heads * HD], or
  float* out_f32;
  float* lse;           // [T][n_heads] or null
  int64_t T, pos0;      // query row r is at position pos0 + r, keys 0..pos0 + T - 1 exist
  int n_heads, n_kv_heads, group;
  float scale;
};

inline size_t fwd_mma_smem_bytes(int hd) { return (size_t)(kFwdBlockM + 2 * kFwdBlockN) * (hd + 8) * 2; }

template <int HD, class E>
__global__ void __launch_bounds__(kFwdWarps * 32) fwd_mma_kernel(FwdMmaArgs<E> a) {
  static_assert(HD % 32 == 0 && HD <= 128, "tensor-core path: head_dim 64 or 128");
  constexpr int LD = HD + 8;  // padded rows: ldmatrix row addresses fall in distinct banks
  PD_DYNAMIC_SMEM(E, smem);
  E* q_t = smem;
  E* k_t = q_t + kFwdBlockM * LD;
  E* v_t = k_t + kFwdBlockN * LD;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, qd = lane % 4;
  const int64_t m0 = (int64_t)(gridDim.x - 1 - blockIdx.x) * kFwdBlockM;  // longest tiles first
  const int h = blockIdx.y, kvh = h / a.group;
  const int64_t T = a.T, q_stride = (int64_t)a.n_heads * HD, kv_stride = (int64_t)a.n_kv_heads * HD;
  const int64_t last_row = min(T - 1, m0 + kFwdBlockM - 1);
  // Query row r sits at position pos0 + r; keys [0, n_keys) exist.
  const int64_t n_keys = a.pos0 + T, last_key = a.pos0 + last_row;
  // seg_start is nondecreasing (segments are contiguous), so the tile's extremes are its ends.
  const int64_t seg_lo = a.seg_start ? a.seg_start[m0] : 0, seg_hi = a.seg_start ? a.seg_start[last_row] : 0;

  // Copy groups in flight, oldest first: Q, K(first), V(first); then one tile ahead (below).
  const int64_t n_first = seg_lo / kFwdBlockN * kFwdBlockN;
  if (a.q_f32) {  // F32 queries (inference): converted on the way in, once per block
    for (int i = threadIdx.x; i < kFwdBlockM * HD / 2; i += blockDim.x) {
      const int r = i / (HD / 2), c = (i % (HD / 2)) * 2;
      float2 x = make_float2(0.0f, 0.0f);
      if (m0 + r < T) x = *reinterpret_cast<const float2*>(a.q_f32 + (m0 + r) * q_stride + (int64_t)h * HD + c);
      const uint32_t packed = pack2(x.x, x.y, (E*)nullptr);
      std::memcpy((void*)(q_t + r * LD + c), &packed, 4);
    }
  } else {
    tile_load_async(q_t, LD, a.q, q_stride, (int64_t)h * HD, m0, kFwdBlockM, HD, T);
  }
  pd_cp_async_commit();
  tile_load_async(k_t, LD, a.k, kv_stride, (int64_t)kvh * HD, n_first, kFwdBlockN, HD, n_keys);
  pd_cp_async_commit();
  tile_load_async(v_t, LD, a.v, kv_stride, (int64_t)kvh * HD, n_first, kFwdBlockN, HD, n_keys);
  pd_cp_async_commit();
  pd_cp_async_wait<2>();
  __syncthreads();
  uint32_t qf[HD / 16][4];
ATTN_UNROLL
  for (int kk = 0; kk < HD / 16; kk++) load_a_frag(qf[kk], q_t, LD, warp * 16, kk * 16);

  // This lane's two rows (g and g + 8 of the warp's 16) and their key ranges.
  int64_t row[2], lo[2];
  for (int r = 0; r < 2; r++) {
    row[r] = m0 + warp * 16 + g + 8 * r;
    lo[r] = row[r] < T && a.seg_start ? a.seg_start[row[r]] : 0;
  }
  float o[HD / 8][4] = {};
  float m_run[2] = {-INFINITY, -INFINITY}, l_run[2] = {0.0f, 0.0f};

  // Single-buffered pipeline: the next K tile loads during P V, the next V tile during Q K^T.
  for (int64_t n0 = n_first; n0 <= last_key; n0 += kFwdBlockN) {
    const bool has_next = n0 + kFwdBlockN <= last_key;
    pd_cp_async_wait<1>();  // K(n0) has landed; V(n0) may still be in flight
    __syncthreads();

    float s[kFwdBlockN / 8][4] = {};
ATTN_UNROLL
    for (int nt = 0; nt < kFwdBlockN / 8; nt++)
ATTN_UNROLL
      for (int kk = 0; kk < HD / 16; kk += 2) {
        uint32_t b[4];
        load_b_frags_nk(b, k_t, LD, nt * 8, kk * 16);
        mma<E>(s[nt], qf[kk], b[0], b[1]);
        mma<E>(s[nt], qf[kk + 1], b[2], b[3]);
      }
    // Masks only where a key can fall outside [seg_start[row], row] for some row of the tile.
    const bool needs_mask = n0 + kFwdBlockN - 1 > a.pos0 + m0 || n0 < seg_hi;
    float m_new[2], base[2];
    for (int r = 0; r < 2; r++) {
      float mx = -INFINITY;
ATTN_UNROLL
      for (int nt = 0; nt < kFwdBlockN / 8; nt++)
ATTN_UNROLL
        for (int c = 0; c < 2; c++) {
          float& x = s[nt][2 * r + c];
          x *= a.scale;
          if (needs_mask) {
            const int64_t key = n0 + nt * 8 + 2 * qd + c;
            if (key > a.pos0 + row[r] || key < lo[r]) x = -INFINITY;
          }
          mx = fmaxf(mx, x);
        }
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
      m_new[r] = fmaxf(m_run[r], mx);
      base[r] = m_new[r] == -INFINITY ? 0.0f : m_new[r];  // a row with no key yet stays all zero
      const float corr = __expf(m_run[r] - base[r]);
      m_run[r] = m_new[r];
      float sum = 0.0f;
ATTN_UNROLL
      for (int nt = 0; nt < kFwdBlockN / 8; nt++)
ATTN_UNROLL
        for (int c = 0; c < 2; c++) {
          float& x = s[nt][2 * r + c];
          x = __expf(x - base[r]);
          sum += x;
        }
      l_run[r] = l_run[r] * corr + sum;
ATTN_UNROLL
      for (int dt = 0; dt < HD / 8; dt++) {
        o[dt][2 * r] *= corr;
        o[dt][2 * r + 1] *= corr;
      }
    }

    __syncthreads();  // every warp is done with K(n0)
    if (has_next) {
      tile_load_async(k_t, LD, a.k, kv_stride, (int64_t)kvh * HD, n0 + kFwdBlockN, kFwdBlockN, HD, n_keys);
      pd_cp_async_commit();
      pd_cp_async_wait<1>();  // V(n0) has landed; K(next) may still be in flight
    } else {
      pd_cp_async_wait<0>();
    }
    __syncthreads();
ATTN_UNROLL
    for (int kk = 0; kk < kFwdBlockN / 16; kk++) {
      uint32_t pa[4];
      acc_to_a_frag<E>(pa, s[2 * kk], s[2 * kk + 1]);
ATTN_UNROLL
      for (int dt = 0; dt < HD / 8; dt += 2) {
        uint32_t b[4];
        load_b_frags_kn(b, v_t, LD, kk * 16, dt * 8);
        mma<E>(o[dt], pa, b[0], b[1]);
        mma<E>(o[dt + 1], pa, b[2], b[3]);
      }
    }
    if (has_next) {
      __syncthreads();  // every warp is done with V(n0)
      tile_load_async(v_t, LD, a.v, kv_stride, (int64_t)kvh * HD, n0 + kFwdBlockN, kFwdBlockN, HD, n_keys);
      pd_cp_async_commit();
    }
  }

  for (int r = 0; r < 2; r++) {
    float l = l_run[r];
    l += __shfl_xor_sync(0xffffffffu, l, 1);
    l += __shfl_xor_sync(0xffffffffu, l, 2);
    if (row[r] >= T) continue;
    const float inv = 1.0f / l;
    const int64_t at = row[r] * q_stride + (int64_t)h * HD;
ATTN_UNROLL
    for (int dt = 0; dt < HD / 8; dt++) {
      const float x0 = o[dt][2 * r] * inv, x1 = o[dt][2 * r + 1] * inv;
      if (a.out_f32) {
        *reinterpret_cast<float2*>(a.out_f32 + at + dt * 8 + 2 * qd) = make_float2(x0, x1);
      } else {
        const uint32_t packed = pack2(x0, x1, (E*)nullptr);
        std::memcpy((void*)(a.out + at + dt * 8 + 2 * qd), &packed, 4);
      }
    }
    if (a.lse && qd == 0) a.lse[row[r] * a.n_heads + h] = m_run[r] + __logf(l);
  }
}

template <class E>
inline void launch_fwd_mma(const FwdMmaArgs<E>& a, int hd, pd_stream_t s) {
  const dim3 grid((unsigned)pd_ceil_div(a.T, kFwdBlockM), (unsigned)a.n_heads);
  if (hd == 64)
    pd_launch(fwd_mma_kernel<64, E>, grid, dim3(kFwdWarps * 32), fwd_mma_smem_bytes(64), s, a);
  else
    pd_launch(fwd_mma_kernel<128, E>, grid, dim3(kFwdWarps * 32), fwd_mma_smem_bytes(128), s, a);
}

}  // namespace attn
}  // namespace pd_cuda
