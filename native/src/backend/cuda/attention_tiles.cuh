// Device pieces shared by the attention kernels (attention_kv.cu, attention_flash_fwd.cu,
// attention_flash_bwd.cu):
//  - element loads of F16 / BF16 / F32 rows as floats, with a 16-byte vector path;
//  - the SIMT "one warp, one query row" online softmax (inference over the KV cache, and the
//    training fallback for head dims the tensor-core kernels do not take): lane j scores key j
//    of a 32-key chunk, the chunk's probabilities go through a per-warp shared array, and lane i
//    accumulates output dims i, i+32, ... (head_dim <= 256, so at most 8 per lane);
//  - mma.m16n8k16 tile helpers for the tensor-core kernels: a warp's 16 x 16 A fragment and
//    pairs of 8-wide B fragments read with ldmatrix from row-major BF16 tiles in shared memory.
#pragma once

#include <cmath>

#include "backend/cuda/gpu_device.cuh"

// Full unrolling keeps the fragment arrays in registers (nvcc); the emulator's compiler ignores it.
#if defined(PADDOCK_CUDA_EMU)
#define ATTN_UNROLL
#else
#define ATTN_UNROLL _Pragma("unroll")
#endif

namespace pd_cuda {
namespace attn {

constexpr int kMaxHeadDim = 256;
constexpr int kDimsPerLane = kMaxHeadDim / 32;

__device__ __forceinline__ float to_float(float x) { return x; }
__device__ __forceinline__ float to_float(pd_half x) { return __half2float(x); }
__device__ __forceinline__ float to_float(pd_bf16 x) { return __bfloat162float(x); }

// q_s . row over hd dims; vec16: row is 16-byte aligned and hd a multiple of 8 (2-byte types).
template <class E>
__device__ __forceinline__ float dot_row(const float* q_s, const E* row, int hd, bool vec16) {
  float dot = 0.0f;
  if (sizeof(E) == 2 && vec16) {
    for (int d = 0; d < hd; d += 8) {
      const uint4 raw = *reinterpret_cast<const uint4*>(row + d);
      E e[8];
      std::memcpy((void*)e, &raw, 16);
ATTN_UNROLL
      for (int i = 0; i < 8; i++) dot += q_s[d + i] * to_float(e[i]);
    }
  } else {
    for (int d = 0; d < hd; d++) dot += q_s[d] * to_float(row[d]);
  }
  return dot;
}

// Running state of one query row's online softmax: the max m of the scaled scores so far, this
// lane's share of sum(exp(s - m)), and this lane's output dims (lane + 32 i).
struct RowSoftmax {
  float m = -INFINITY;
  float l_lane = 0.0f;
  float acc[kDimsPerLane] = {0, 0, 0, 0, 0, 0, 0, 0};
};

// One warp attends its query row (q_s: hd floats in shared memory, already multiplied by the
// softmax scale) to keys [lo, hi] (inclusive; rows `stride` elements apart). p_s: this warp's
// 32 floats of shared scratch. Every lane of the warp must call it with the same arguments.
template <class KV>
__device__ __forceinline__ void warp_attend_row(const float* q_s, const KV* k, const KV* v, int64_t stride, int hd,
                                                int64_t lo, int64_t hi, bool vec16, float* p_s, RowSoftmax& st) {
  const int lane = threadIdx.x & 31;
  for (int64_t base = lo; base <= hi; base += 32) {
    const int64_t key = base + lane;
    const float s = key <= hi ? dot_row(q_s, k + key * stride, hd, vec16) : -INFINITY;
    const float m_new = fmaxf(st.m, pd_warp_max(s));  // finite: key `base` is in range
    const float corr = __expf(st.m - m_new);          // 0 on the first chunk (m = -inf)
    const float p = key <= hi ? __expf(s - m_new) : 0.0f;
    st.l_lane = st.l_lane * corr + p;
    st.m = m_new;
    __syncwarp();  // the previous chunk's readers of p_s are done
    p_s[lane] = p;
    __syncwarp();
    const int n = (int)(hi - base + 1 < 32 ? hi - base + 1 : 32);
ATTN_UNROLL
    for (int i = 0; i < kDimsPerLane; i++) st.acc[i] *= corr;
    for (int j = 0; j < n; j++) {
      const float pj = p_s[j];
      const KV* vr = v + (base + j) * stride;
ATTN_UNROLL
      for (int i = 0; i < kDimsPerLane; i++) {
        const int d = lane + 32 * i;
        if (d < hd) st.acc[i] += pj * to_float(vr[d]);
      }
    }
  }
}

// ---- tensor-core tiles: row-major 16-bit tiles (BF16 for training, F16 for the KV cache) in
// shared memory, `ld` elements per row ----

// A fragment (16 rows x 16 k) of rows r0.., k columns k0..: matrices (rows 0-7, k 0-7),
// (rows 8-15, k 0-7), (rows 0-7, k 8-15), (rows 8-15, k 8-15) = a0..a3 of mma.m16n8k16.
template <class E>
__device__ __forceinline__ void load_a_frag(uint32_t a[4], const E* tile, int ld, int r0, int k0) {
  const int lane = threadIdx.x & 31;
  pd_ldmatrix_x4(a, tile + (r0 + (lane & 15)) * ld + k0 + (lane >> 4) * 8);
}

// B fragments for two k-steps when B[k][n] = tile[n][k] (tile rows are the n index: keys for
// Q K^T): n rows n0..n0+7, k columns k0..k0+31. b[0..1]: k-step k0, b[2..3]: k-step k0+16.
template <class E>
__device__ __forceinline__ void load_b_frags_nk(uint32_t b[4], const E* tile, int ld, int n0, int k0) {
  const int lane = threadIdx.x & 31;
  pd_ldmatrix_x4(b, tile + (n0 + (lane & 7)) * ld + k0 + (lane >> 3) * 8);
}

// B fragments for two n-tiles when B[k][n] = tile[k][n] (tile rows are the k index: keys for
// P V): k rows k0..k0+15, n columns n0..n0+15. b[0..1]: n-tile n0, b[2..3]: n-tile n0+8.
template <class E>
__device__ __forceinline__ void load_b_frags_kn(uint32_t b[4], const E* tile, int ld, int k0, int n0) {
  const int lane = threadIdx.x & 31;
  pd_ldmatrix_x4_trans(b, tile + (k0 + (lane & 15)) * ld + n0 + (lane >> 4) * 8);
}

// The accumulator tiles of a 16 x 16 k-step, as the A operand of the next product
// (probabilities times values): c_lo covers k 0-7, c_hi k 8-15 (each the 4 floats of an n-tile).
__device__ __forceinline__ uint32_t pack2(float lo, float hi, pd_bf16*) { return pd_pack_bf16(lo, hi); }
__device__ __forceinline__ uint32_t pack2(float lo, float hi, pd_half*) { return pd_pack_f16(lo, hi); }

template <class E = pd_bf16>
__device__ __forceinline__ void acc_to_a_frag(uint32_t a[4], const float c_lo[4], const float c_hi[4]) {
  a[0] = pack2(c_lo[0], c_lo[1], (E*)nullptr);
  a[1] = pack2(c_lo[2], c_lo[3], (E*)nullptr);
  a[2] = pack2(c_hi[0], c_hi[1], (E*)nullptr);
  a[3] = pack2(c_hi[2], c_hi[3], (E*)nullptr);
}

__device__ __forceinline__ void mma_e(float c[4], const uint32_t a[4], const uint32_t b[2], pd_bf16*) {
  pd_mma_16816_bf16(c, a, b, c);
}
__device__ __forceinline__ void mma_e(float c[4], const uint32_t a[4], const uint32_t b[2], pd_half*) {
  pd_mma_16816_f16(c, a, b, c);
}
template <class E = pd_bf16>
__device__ __forceinline__ void mma(float c[4], const uint32_t a[4], const uint32_t b0, const uint32_t b1) {
  const uint32_t b[2] = {b0, b1};
  mma_e(c, a, b, (E*)nullptr);
}

// Copies rows [r0, r0 + rows) of a [T][row_stride] BF16 matrix, `cols` (a multiple of 8)
// elements from column c0, into a [rows][ld] shared tile with 16-byte async copies; rows at or
// past T are zero-filled. The caller commits and waits.
template <class E>
__device__ __forceinline__ void tile_load_async(E* tile, int ld, const E* src, int64_t row_stride,
                                                int64_t c0, int64_t r0, int rows, int cols, int64_t T) {
  const int chunks_per_row = cols / 8;
  for (int i = threadIdx.x; i < rows * chunks_per_row; i += blockDim.x) {
    const int r = i / chunks_per_row, c = (i % chunks_per_row) * 8;
    const bool in = r0 + r < T;
    const E* g = src + (in ? r0 + r : 0) * row_stride + c0 + c;
    pd_cp_async_16(tile + r * ld + c, g, in);
  }
}

}  // namespace attn
}  // namespace pd_cuda
