// AVX2+FMA tile of the backward GEMMs (compiled with -mavx2 -mfma -mf16c, reached only after
// cpu_features().avx2). 6 rows x 2 ymm (16 columns): 12 accumulators + 2 b vectors + 1
// broadcast fill the 16 ymm registers; per k step 2 loads and 6 broadcasts feed 12 FMAs.
// Each output is the same fused chain as in the AVX-512 tile, so the two agree bit for bit.
#include <immintrin.h>

#include "backend/cpu/matmul_grad_kernels.h"

namespace paddock {

namespace {

constexpr int kMr = 6, kVecs = 2, kNr = 8 * kVecs, kKc = 256;

// Lanes [0, n) of a ymm mask (all lanes for n >= 8).
inline __m256i lanes_below(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// R rows x V vectors; the last vector's columns past `cols` are masked off in out.
template <int R, int V>
void tile_rv(const float* a, const float* b, int64_t kc, float* out, int64_t ldo, int cols, bool load) {
  const __m256i last = lanes_below(cols - 8 * (V - 1)), all = _mm256_set1_epi32(-1);
  __m256 acc[R][V];
#pragma GCC unroll 8
  for (int r = 0; r < R; r++)
#pragma GCC unroll 2
    for (int v = 0; v < V; v++)
      acc[r][v] = load ? _mm256_maskload_ps(out + r * ldo + 8 * v, v == V - 1 ? last : all) : _mm256_setzero_ps();
  for (int64_t k = 0; k < kc; k++) {
    __m256 bv[V];
#pragma GCC unroll 2
    for (int v = 0; v < V; v++) bv[v] = _mm256_load_ps(b + k * kNr + 8 * v);
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) {
      const __m256 av = _mm256_broadcast_ss(a + k * kMr + r);
#pragma GCC unroll 2
      for (int v = 0; v < V; v++) acc[r][v] = _mm256_fmadd_ps(av, bv[v], acc[r][v]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; r++)
#pragma GCC unroll 2
    for (int v = 0; v < V; v++) _mm256_maskstore_ps(out + r * ldo + 8 * v, v == V - 1 ? last : all, acc[r][v]);
}

using TileFn = void (*)(const float*, const float*, int64_t, float*, int64_t, int, bool);
template <int R>
constexpr TileFn kRow[kVecs] = {tile_rv<R, 1>, tile_rv<R, 2>};
const TileFn* const kTiles[kMr] = {kRow<1>, kRow<2>, kRow<3>, kRow<4>, kRow<5>, kRow<6>};

void tile_avx2(const float* a, const float* b, int64_t kc, float* out, int64_t ldo, int rows, int cols, bool load) {
  kTiles[rows - 1][(cols + 7) / 8 - 1](a, b, kc, out, ldo, cols, load);
}

}  // namespace

GradRowToFloat grad_simd_to_float_avx2(DType t);  // matmul_grad_dequant_avx2.cpp

const GradGemmKernels& grad_gemm_kernels_avx2_table() {
  static const GradGemmKernels k = {"avx2", kMr, kNr, kKc, tile_avx2, grad_simd_to_float_avx2};
  return k;
}

}  // namespace paddock
