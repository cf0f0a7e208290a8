// Paddock's own GEMMs (there is no cuBLAS on the build machines): tensor cores through
// mma.sync m16n8k16 (sm_80+, BF16 or F16 inputs, F32 accumulation), and a CUDA-core path for
// F32 inputs (small LoRA products, F32 models). The three layouts training needs:
//   NT: C[M,N] = A[M,K] * B[N,K]^T     y = x W^T          (forward; W row-major [n_out, n_in])
//   NN: C[M,N] = A[M,K] * B[K,N]       dx = dy W          (input gradient)
//   TN: C[M,N] = A[K,M]^T * B[K,N]     dW = dy^T x        (weight gradient)
// Any M, N, K >= 1 and any leading dimensions: tiles are bounds-checked (ragged edges are
// zero-filled), and the 16-byte async-copy fast path is taken only when the strides and
// pointers allow it, so stories260K's hidden size of 172 works as well as 8192.
#pragma once

#include "backend/cuda/cuda_types.h"

namespace pd_cuda {

enum class GemmOp { NT, NN, TN };

struct GemmDesc {
  GemmOp op = GemmOp::NT;
  Elem ab = Elem::BF16;      // A and B: BF16 or F16 (tensor cores) or F32 (CUDA cores)
  Elem c = Elem::F32;        // C: F32, BF16 or F16
  int64_t M = 0, N = 0, K = 0;
  const void* A = nullptr;
  int64_t lda = 0;           // row stride of A in elements (NT/NN: A is [M rows][K]; TN: [K rows][M])
  const void* B = nullptr;
  int64_t ldb = 0;           // NT: B is [N rows][K]; NN/TN: [K rows][N]
  void* C = nullptr;
  int64_t ldc = 0;           // C is [M rows][N]
  float alpha = 1.0f;
  float beta = 0.0f;         // C = alpha op(A) op(B) + beta C; beta 0: C is not read (may be garbage)
};

// Enqueues the product on stream s. Preconditions (checked by callers, asserted in debug
// builds): M, N, K >= 1; lda/ldb/ldc >= the row length; ab is BF16/F16 with c any, or F32
// with c F32.
// Speed (gemm.cu, gemm_simt.cu): BF16/F16 run on tensor cores (mma.sync, 3-stage cp.async
// pipeline, 128x128 or 64x64 block tiles); large aligned products should reach ~60-70% of
// H100's dense BF16 peak without wgmma and ~75-85% of A100's (the wgmma path, Hopper products
// of every layout, is meant to go beyond; not yet measured). The fast loads need lda and ldb to be
// multiples of 8 elements and A, B 16-byte aligned; other strides work, more slowly. F32 operands
// use CUDA cores (FP32 FMA rate at best): meant for small LoRA products and F32 models.
void gemm(const GemmDesc& d, pd_stream_t s);

// The tensor-core block tiles; Auto (what gemm() uses) takes Small when M or N <= 64 or the
// large tiles would not fill every SM once. Where it would take Large, a product (NT, NN or TN)
// on a sm_90 device whose wgmma probe passed (probe.h) runs on the Hopper kernel instead
// (gemm_wgmma.h, 128x128 tiles on wgmma). Forcing one is for tests and benchmarks (Wgmma: BF16/F16
// operands only, else the mma.sync choice of Auto; it needs a sm_90a device or the emulator).
// Ignored for F32 operands.
enum class GemmTiles { Auto, Large128x128, Small64x64, Wgmma };
void gemm_with_tiles(const GemmDesc& d, GemmTiles tiles, pd_stream_t s);

// Floating-point operations of the product (2 M N K), for benchmarks' MFU.
inline double gemm_flops(const GemmDesc& d) { return 2.0 * (double)d.M * (double)d.N * (double)d.K; }

}  // namespace pd_cuda
