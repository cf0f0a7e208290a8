// The CUDA-core GEMM for F32 operands and output (LoRA rank products, F32 models), all three
// layouts of gemm.h. Tensor cores take no F32 operands (TF32 would round them), so this is plain
// FMA: a 64x64 block tile, K in steps of 16, 256 threads each owning a 4x4 grid of outputs
// strided by 16 (rows ty + 16i, columns tx + 16j: shared-memory reads are broadcasts or 16
// consecutive words, and the global stores of a half-warp are contiguous). Both operand tiles
// are stored K-major in shared memory, whatever their global layout, so the inner loop is the
// same for NT, NN and TN; global reads walk each operand's contiguous dimension (coalesced).
// The next k-tile is read into registers while the current one is multiplied (one
// __syncthreads pair per k-tile). Ceiling: the FP32 FMA rate (~19.5 TFLOP/s on A100, ~60 on
// H100 SXM); the small-rank products it serves are memory-bound long before that.
#include "backend/cuda/gemm_simt.h"

#include "backend/cuda/gpu_device.cuh"

namespace pd_cuda {
namespace {

struct SimtArgs {
  const float* A;
  const float* B;
  float* C;
  int64_t lda, ldb, ldc;
  int M, N, K;
  float alpha, beta;
};

constexpr int kTile = 64, kStepK = 16, kThreads = 256, kPerThread = kTile * kStepK / kThreads;

// Element e of this thread's share of one operand tile (kTile along M or N, kStepK along K):
// its (mn, k) place in the tile, chosen so consecutive threads read consecutive addresses.
__device__ __forceinline__ void tile_place(bool k_contig, int idx, int* mn, int* k) {
  if (k_contig) {
    *k = idx % kStepK;
    *mn = idx / kStepK;
  } else {
    *mn = idx % kTile;
    *k = idx / kTile;
  }
}

// Reads this thread's elements of the operand tile at (mn0, k0); zero outside extent x K.
// k_contig: the operand is [extent rows][K]; else [K rows][extent].
__device__ __forceinline__ void fetch(float r[kPerThread], const float* g, int64_t ld, bool k_contig, int mn0,
                                      int k0, int extent, int K, int tid) {
  for (int e = 0; e < kPerThread; e++) {
    int mn, k;
    tile_place(k_contig, tid + e * kThreads, &mn, &k);
    const int gmn = mn0 + mn, gk = k0 + k;
    r[e] = (gmn < extent && gk < K) ? (k_contig ? g[(int64_t)gmn * ld + gk] : g[(int64_t)gk * ld + gmn]) : 0.0f;
  }
}

// +1 column: K-contiguous stashes (lanes differ in k) spread over the banks.
__device__ __forceinline__ void stash(float (*s)[kTile + 1], const float r[kPerThread], bool k_contig, int tid) {
  for (int e = 0; e < kPerThread; e++) {
    int mn, k;
    tile_place(k_contig, tid + e * kThreads, &mn, &k);
    s[k][mn] = r[e];
  }
}

template <GemmOp OP>
__global__ void __launch_bounds__(kThreads) gemm_f32_kernel(SimtArgs p) {
  constexpr bool kAKContig = OP != GemmOp::TN, kBKContig = OP == GemmOp::NT;
  __shared__ float sA[kStepK][kTile + 1];
  __shared__ float sB[kStepK][kTile + 1];
  const int tid = threadIdx.x, tx = tid % 16, ty = tid / 16;
  const int m0 = blockIdx.y * kTile, n0 = blockIdx.x * kTile;

  float acc[4][4] = {};
  float ra[kPerThread], rb[kPerThread];
  fetch(ra, p.A, p.lda, kAKContig, m0, 0, p.M, p.K, tid);
  fetch(rb, p.B, p.ldb, kBKContig, n0, 0, p.N, p.K, tid);
  for (int k0 = 0; k0 < p.K; k0 += kStepK) {
    stash(sA, ra, kAKContig, tid);
    stash(sB, rb, kBKContig, tid);
    __syncthreads();
    if (k0 + kStepK < p.K) {  // in flight while the FMAs below run
      fetch(ra, p.A, p.lda, kAKContig, m0, k0 + kStepK, p.M, p.K, tid);
      fetch(rb, p.B, p.ldb, kBKContig, n0, k0 + kStepK, p.N, p.K, tid);
    }
    for (int k = 0; k < kStepK; k++) {
      float a[4], b[4];
      for (int i = 0; i < 4; i++) a[i] = sA[k][ty + 16 * i];
      for (int j = 0; j < 4; j++) b[j] = sB[k][tx + 16 * j];
      for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
    }
    __syncthreads();
  }

  for (int i = 0; i < 4; i++) {
    const int row = m0 + ty + 16 * i;
    if (row >= p.M) break;
    for (int j = 0; j < 4; j++) {
      const int col = n0 + tx + 16 * j;
      if (col >= p.N) break;
      float* c = p.C + (int64_t)row * p.ldc + col;
      *c = p.alpha * acc[i][j] + (p.beta != 0.0f ? p.beta * *c : 0.0f);  // beta 0: C never read
    }
  }
}

}  // namespace

void gemm_f32_simt(const GemmDesc& d, pd_stream_t s) {
  SimtArgs p{};
  p.A = static_cast<const float*>(d.A);
  p.B = static_cast<const float*>(d.B);
  p.C = static_cast<float*>(d.C);
  p.lda = d.lda;
  p.ldb = d.ldb;
  p.ldc = d.ldc;
  p.M = (int)d.M;
  p.N = (int)d.N;
  p.K = (int)d.K;
  p.alpha = d.alpha;
  p.beta = d.beta;
  const dim3 grid((unsigned)pd_ceil_div(d.N, kTile), (unsigned)pd_ceil_div(d.M, kTile));
  switch (d.op) {
    case GemmOp::NT: return pd_launch(gemm_f32_kernel<GemmOp::NT>, grid, dim3(kThreads), 0, s, p);
    case GemmOp::NN: return pd_launch(gemm_f32_kernel<GemmOp::NN>, grid, dim3(kThreads), 0, s, p);
    case GemmOp::TN: return pd_launch(gemm_f32_kernel<GemmOp::TN>, grid, dim3(kThreads), 0, s, p);
  }
}

}  // namespace pd_cuda
