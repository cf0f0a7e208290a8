// AVX-512 tile of the backward GEMMs (compiled with the AVX-512 flags, reached only after
// cpu_features().avx512). 6 rows x 4 zmm (64 columns): 24 accumulators, and per k step 4 vector
// loads of b and 6 broadcasts of a feed 24 FMAs, so the two FMA ports, not the loads, set the
// pace. A b sliver of kc = 128 steps is 32 KiB: it stays in L1 while every row block passes.
#include <immintrin.h>

#include "backend/cpu/matmul_grad_kernels.h"

namespace paddock {

namespace {

constexpr int kMr = 6, kVecs = 4, kNr = 16 * kVecs, kKc = 128;

// R rows x V vectors; the last vector's columns past `cols` are masked off in out.
template <int R, int V>
void tile_rv(const float* a, const float* b, int64_t kc, float* out, int64_t ldo, int cols, bool load) {
  const int tail = cols - 16 * (V - 1);
  const __mmask16 last = (__mmask16)(tail >= 16 ? 0xffff : (1u << tail) - 1);
  __m512 acc[R][V];
#pragma GCC unroll 8
  for (int r = 0; r < R; r++)
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) {
      const __mmask16 m = v == V - 1 ? last : (__mmask16)0xffff;
      acc[r][v] = load ? _mm512_maskz_loadu_ps(m, out + r * ldo + 16 * v) : _mm512_setzero_ps();
    }
  for (int64_t k = 0; k < kc; k++) {
    __m512 bv[V];
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) bv[v] = _mm512_load_ps(b + k * kNr + 16 * v);
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) {
      const __m512 av = _mm512_set1_ps(a[k * kMr + r]);
#pragma GCC unroll 4
      for (int v = 0; v < V; v++) acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; r++)
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) _mm512_mask_storeu_ps(out + r * ldo + 16 * v, v == V - 1 ? last : 0xffff, acc[r][v]);
}

using TileFn = void (*)(const float*, const float*, int64_t, float*, int64_t, int, bool);
template <int R>
constexpr TileFn kRow[kVecs] = {tile_rv<R, 1>, tile_rv<R, 2>, tile_rv<R, 3>, tile_rv<R, 4>};
const TileFn* const kTiles[kMr] = {kRow<1>, kRow<2>, kRow<3>, kRow<4>, kRow<5>, kRow<6>};

void tile_avx512(const float* a, const float* b, int64_t kc, float* out, int64_t ldo, int rows, int cols, bool load) {
  kTiles[rows - 1][(cols + 15) / 16 - 1](a, b, kc, out, ldo, cols, load);
}

}  // namespace

GradRowToFloat grad_simd_to_float_avx2(DType t);  // matmul_grad_dequant_avx2.cpp

const GradGemmKernels& grad_gemm_kernels_avx512_table() {
  static const GradGemmKernels k = {"avx512", kMr, kNr, kKc, tile_avx512, grad_simd_to_float_avx2};
  return k;
}

}  // namespace paddock
