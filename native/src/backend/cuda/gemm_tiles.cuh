// Device building blocks of the tensor-core GEMM (gemm.cu): the shared-memory operand tiles,
// their global->shared copy and their ldmatrix fragment loads, and the bounds-checked epilogue.
//
// An operand tile is stored in shared memory exactly as it lies in global memory (row-major, the
// contiguous dimension last), so the copy is straight 16-byte chunks:
//   K-contiguous   (A of NT/NN, B of NT):   [MN rows][BK + 8]  -> ldmatrix (no transpose)
//   MN-contiguous  (A of TN,    B of NN/TN): [BK rows][MN + 8]  -> ldmatrix .trans
// ldmatrix .trans hands each lane the transposed 8x8 pieces, which is exactly the m16n8k16
// fragment of the K-major operand, so no layout needs a register shuffle. The 8-element (16
// byte) row padding puts the 8 row addresses of one 8x8 ldmatrix piece on 8 different 4-bank
// groups (row strides of 80 or 272 bytes), so fragment loads and the 16-byte stores of the copy
// are free of bank conflicts without an XOR swizzle.
#pragma once

#include "backend/cuda/gpu_device.cuh"
#include "backend/cuda/cuda_types.h"

// Full unrolling of the fragment and accumulator loops keeps acc[][][] in registers (nvcc does
// not unroll loops around the mma asm on its own). The host compiler needs no hint.
#if defined(PADDOCK_CUDA_EMU)
#define PD_GEMM_UNROLL
#else
#define PD_GEMM_UNROLL _Pragma("unroll")
#endif

namespace pd_cuda {
namespace gemm_detail {

// What a kernel needs of GemmDesc, with typed raw pointers (16-bit elements are copied as bits).
struct GemmArgs {
  const uint16_t* A;
  const uint16_t* B;
  void* C;
  int64_t lda, ldb, ldc;
  int M, N, K;
  int tiles_m, tiles_n;  // output tiles, for the grouped block order
  float alpha, beta;
  Elem c_type;
  bool c_pairs;  // C base and ldc allow storing two adjacent outputs as one vector
};

// One 8-element (16-byte) chunk: elements [gc, gc + 8) of row gr of the row-major global matrix
// g (rows x cols, stride ld) into dst; everything outside the matrix becomes 0. VEC (ld % 8 == 0,
// g 16-byte aligned): a full chunk, or one wholly outside, is one cp.async of 16 bytes; a chunk
// straddling the last column, and every chunk of the general path (any ld, any alignment), is
// read element by element, zero-filled and stored as 16 bytes. Shared by every tile loader.
template <bool VEC>
__device__ __forceinline__ void copy_chunk(void* dst, const uint16_t* g, int64_t ld, int gr, int gc, int rows,
                                           int cols) {
  const bool row_in = gr < rows;
  if (VEC && (!row_in || gc + 8 <= cols || gc >= cols)) {
    const bool in = row_in && gc < cols;
    pd_cp_async_16(dst, in ? g + (int64_t)gr * ld + gc : g, in);  // !in: zero fill, reads nothing
  } else {
    uint32_t w[4] = {0, 0, 0, 0};
    if (row_in) {
      const uint16_t* src = g + (int64_t)gr * ld + gc;
      PD_GEMM_UNROLL
      for (int e = 0; e < 8; e++)
        if (gc + e < cols) w[e / 2] |= (uint32_t)src[e] << (16 * (e % 2));
    }
    *reinterpret_cast<uint4*>(dst) = uint4{w[0], w[1], w[2], w[3]};
  }
}

// Copies rows [row0, row0 + ROWS) x columns [col0, col0 + COLS) of the row-major global matrix
// g (rows x cols, stride ld) into smem [ROWS][COLS + 8]; everything outside the matrix becomes 0.
// Each thread moves whole 8-element chunks (copy_chunk).
template <int ROWS, int COLS, int THREADS, bool VEC>
__device__ __forceinline__ void copy_tile(uint16_t* smem, const uint16_t* g, int64_t ld, int row0, int col0,
                                          int rows, int cols, int tid) {
  constexpr int kStride = COLS + 8, kChunksPerRow = COLS / 8, kChunks = ROWS * kChunksPerRow;
  static_assert(COLS % 8 == 0 && kChunks % THREADS == 0, "tile must split into whole chunks per thread");
  PD_GEMM_UNROLL
  for (int it = 0; it < kChunks / THREADS; it++) {
    const int c = tid + it * THREADS;
    const int r = c / kChunksPerRow, cc = (c % kChunksPerRow) * 8;
    copy_chunk<VEC>(smem + r * kStride + cc, g, ld, row0 + r, col0 + cc, rows, cols);
  }
}

// One operand's tile: MN (BM or BN) by BK, stored K-contiguous or MN-contiguous (see above).
template <bool K_CONTIG, int MN, int BK>
struct OperandTile {
  static constexpr int kRows = K_CONTIG ? MN : BK;
  static constexpr int kCols = K_CONTIG ? BK : MN;
  static constexpr int kStride = kCols + 8;
  static constexpr int kElems = kRows * kStride;

  // Global operand: K_CONTIG it is [mn_extent rows][K], else [K rows][mn_extent].
  template <int THREADS, bool VEC>
  __device__ __forceinline__ static void load(uint16_t* smem, const uint16_t* g, int64_t ld, int mn0, int k0,
                                              int mn_extent, int K, int tid) {
    if (K_CONTIG)
      copy_tile<kRows, kCols, THREADS, VEC>(smem, g, ld, mn0, k0, mn_extent, K, tid);
    else
      copy_tile<kRows, kCols, THREADS, VEC>(smem, g, ld, k0, mn0, K, mn_extent, tid);
  }

  // Element offset of (mn, k) in the tile.
  __device__ __forceinline__ static int at(int mn, int k) { return K_CONTIG ? mn * kStride + k : k * kStride + mn; }

  // This lane's ldmatrix.x4 row address (relative to at(m0, k0)) for a 16x16 A fragment:
  // pieces (m 0-7, k 0-7), (m 8-15, k 0-7), (m 0-7, k 8-15), (m 8-15, k 8-15) = a0..a3.
  __device__ __forceinline__ static int a_lane_offset(int lane) {
    const int piece = lane >> 3, row = lane & 7;
    return K_CONTIG ? at((lane & 15), (lane >> 4) * 8) : at((piece & 1) * 8, row + (piece >> 1) * 8);
  }
  // ... for two 16x8 B fragments side by side (n 0-7 then n 8-15): pieces (n 0-7, k 0-7),
  // (n 0-7, k 8-15), (n 8-15, k 0-7), (n 8-15, k 8-15) = b0, b1 of the first, b0, b1 of the second.
  __device__ __forceinline__ static int b_lane_offset(int lane) {
    const int piece = lane >> 3, row = lane & 7;
    return K_CONTIG ? at(row + (piece >> 1) * 8, (piece & 1) * 8) : at((piece >> 1) * 8, row + (piece & 1) * 8);
  }
  __device__ __forceinline__ static void fragment_x4(uint32_t r[4], const uint16_t* lane_base) {
    if (K_CONTIG)
      pd_ldmatrix_x4(r, lane_base);
    else
      pd_ldmatrix_x4_trans(r, lane_base);
  }
};

__device__ __forceinline__ float load_c(const void* C, int64_t i, Elem t) {
  if (t == Elem::F32) return static_cast<const float*>(C)[i];
  if (t == Elem::BF16) return __bfloat162float(static_cast<const pd_bf16*>(C)[i]);
  return __half2float(static_cast<const pd_half*>(C)[i]);
}
__device__ __forceinline__ void store_c(void* C, int64_t i, Elem t, float v) {
  if (t == Elem::F32)
    static_cast<float*>(C)[i] = v;
  else if (t == Elem::BF16)
    static_cast<pd_bf16*>(C)[i] = __float2bfloat16_rn(v);
  else
    static_cast<pd_half*>(C)[i] = __float2half_rn(v);
}

// Writes C[row][col], C[row][col + 1] = alpha acc + beta C (C read only when beta != 0), the
// pair an mma lane holds; skips what lies outside M x N. col is even.
__device__ __forceinline__ void store_pair(const GemmArgs& p, int row, int col, float v0, float v1) {
  if (row >= p.M || col >= p.N) return;
  const int64_t i = (int64_t)row * p.ldc + col;
  const bool both = col + 1 < p.N;
  v0 *= p.alpha;
  v1 *= p.alpha;
  if (p.beta != 0.0f) {
    v0 += p.beta * load_c(p.C, i, p.c_type);
    if (both) v1 += p.beta * load_c(p.C, i + 1, p.c_type);
  }
  if (both && p.c_pairs) {
    if (p.c_type == Elem::F32)
      *reinterpret_cast<float2*>(static_cast<float*>(p.C) + i) = float2{v0, v1};
    else
      *reinterpret_cast<uint32_t*>(static_cast<uint16_t*>(p.C) + i) =
          p.c_type == Elem::BF16 ? pd_pack_bf16(v0, v1) : pd_pack_f16(v0, v1);
    return;
  }
  store_c(p.C, i, p.c_type, v0);
  if (both) store_c(p.C, i + 1, p.c_type, v1);
}

// Block `pid` of a 1-D grid -> its output tile, walking groups of kGroupM tile rows column by
// column, so blocks resident at the same time share A rows and B columns in L2.
__device__ __forceinline__ void grouped_tile(int pid, int tiles_m, int tiles_n, int* tm, int* tn) {
  constexpr int kGroupM = 8;
  const int per_group = kGroupM * tiles_n, first_m = (pid / per_group) * kGroupM;
  const int group_rows = min(tiles_m - first_m, kGroupM), in_group = pid % per_group;
  *tm = first_m + in_group % group_rows;
  *tn = in_group / group_rows;
}

}  // namespace gemm_detail
}  // namespace pd_cuda
