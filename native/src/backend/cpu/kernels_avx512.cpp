// AVX-512 kernels (this file is compiled with -mavx512f/bw/vl/dq and only reached after
// cpu_features().avx512). Every output keeps the AVX2 table's lane layout and FMA order: one
// zmm accumulator holds exactly the two ymm accumulators of kernels_avx2.cpp, so both tables
// give the same bits. With one register per output the prefill GEMM blocks 4 rows x 6 tokens
// (24 accumulators, each load feeding 4 or 6 FMAs); the decode matvec takes eight rows per pass.
#include <immintrin.h>

#include "backend/cpu/kernels.h"
#include "core/dtype.h"

namespace paddock {

const CpuKernels& cpu_kernels_avx2_table();  // kernels_avx2.cpp: the ops this file does not widen

namespace {

// (The full-mask maskz_ forms below compile to the same instructions as the plain ones, whose
// GCC 12 header implementations trip a false -Wmaybe-uninitialized.)

// Loaders per weight format: 16 and 8 values as floats, and one for the scalar tail.
struct F32Row {
  using T = float;
  static __m512 l16(const float* p) { return _mm512_loadu_ps(p); }
  static __m256 l8(const float* p) { return _mm256_loadu_ps(p); }
  static float l1(const float* p) { return *p; }
};
struct F16Row {
  using T = uint16_t;
  static __m512 l16(const uint16_t* p) {
    return _mm512_maskz_cvtph_ps(0xffff, _mm256_loadu_si256((const __m256i*)p));
  }
  static __m256 l8(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)p)); }
  static float l1(const uint16_t* p) { return fp16_to_fp32(*p); }
};
struct BF16Row {
  using T = uint16_t;
  static __m512 l16(const uint16_t* p) {
    const __m512i v = _mm512_maskz_cvtepu16_epi32(0xffff, _mm256_loadu_si256((const __m256i*)p));
    return _mm512_castsi512_ps(_mm512_maskz_slli_epi32(0xffff, v, 16));
  }
  static __m256 l8(const uint16_t* p) {
    const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i*)p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
  }
  static float l1(const uint16_t* p) { return bf16_to_fp32(*p); }
};

// The AVX2 table's reduction of 8 lanes (0+4, 1+5, 2+6, 3+7, then a tree).
inline float reduce8(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
  __m128 s = _mm_add_ps(lo, hi);
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Ends one dot from position i: acc's halves are the AVX2 accumulators a0 and a1; the 8-wide
// steps go into a0 and the last n % 8 products are added one by one, as in kernels_avx2.cpp.
template <class L>
inline float finish_dot(__m512 acc, const typename L::T* w, const float* x, int64_t i, int64_t n) {
  __m256 a0 = _mm512_maskz_extractf32x8_ps(0xff, acc, 0);
  const __m256 a1 = _mm512_maskz_extractf32x8_ps(0xff, acc, 1);
  for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(L::l8(w + i), _mm256_loadu_ps(x + i), a0);
  float sum = reduce8(_mm256_add_ps(a0, a1));
  for (; i < n; i++) sum += L::l1(w + i) * x[i];
  return sum;
}

template <class L>
float dot_t(const typename L::T* w, const float* x, int64_t n) {
  __m512 acc = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) acc = _mm512_fmadd_ps(L::l16(w + i), _mm512_loadu_ps(x + i), acc);
  return finish_dot<L>(acc, w, x, i, n);
}

// R weight rows x C tokens, one accumulator per output: per 16 floats, R + C loads feed
// R * C FMAs.
template <int R, int C>
void gemm_tile(const float* w, int64_t ldw, const float* x, int64_t ldx, int64_t n, float* y, int64_t ldy) {
  __m512 acc[R][C];
#pragma GCC unroll 8
  for (int r = 0; r < R; r++)
#pragma GCC unroll 8
    for (int c = 0; c < C; c++) acc[r][c] = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512 wv[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) wv[r] = _mm512_loadu_ps(w + r * ldw + i);
#pragma GCC unroll 8
    for (int c = 0; c < C; c++) {
      const __m512 xv = _mm512_loadu_ps(x + c * ldx + i);
#pragma GCC unroll 8
      for (int r = 0; r < R; r++) acc[r][c] = _mm512_fmadd_ps(wv[r], xv, acc[r][c]);
    }
  }
  for (int r = 0; r < R; r++)
    for (int c = 0; c < C; c++) y[c * ldy + r] = finish_dot<F32Row>(acc[r][c], w + r * ldw, x + c * ldx, i, n);
}

constexpr int kRows = 4, kCols = 6;
using TileFn = void (*)(const float*, int64_t, const float*, int64_t, int64_t, float*, int64_t);
template <int R>
constexpr TileFn kTileRow[kCols] = {gemm_tile<R, 1>, gemm_tile<R, 2>, gemm_tile<R, 3>,
                                    gemm_tile<R, 4>, gemm_tile<R, 5>, gemm_tile<R, 6>};
const TileFn* const kTiles[kRows] = {kTileRow<1>, kTileRow<2>, kTileRow<3>, kTileRow<4>};

// Rows outermost: a block of kRows weight rows stays in L1 while every token passes by.
void gemm_f32_avx512(const float* w, int64_t ldw, int64_t R, const float* x, int64_t ldx, int64_t C, int64_t n,
                     float* y, int64_t ldy) {
  for (int64_t r = 0; r < R; r += kRows) {
    const int nr = (int)(R - r < kRows ? R - r : kRows);
    for (int64_t t = 0; t < C; t += kCols) {
      const int nc = (int)(C - t < kCols ? C - t : kCols);
      kTiles[nr - 1][nc - 1](w + r * ldw, ldw, x + t * ldx, ldx, n, y + t * ldy + r, ldy);
    }
  }
}

// Eight rows per pass share each load of x and give eight independent FMA chains (one
// accumulator per row is the lane layout). (Software prefetch ahead of the weight streams
// measured no better than the hardware prefetcher here, so there is none.)
template <class L, int R>
void matvec_rows(const typename L::T* w, const float* x, int64_t n, float* y) {
  __m512 acc[R];
  for (int r = 0; r < R; r++) acc[r] = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 xv = _mm512_loadu_ps(x + i);
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) acc[r] = _mm512_fmadd_ps(L::l16(w + r * n + i), xv, acc[r]);
  }
  for (int r = 0; r < R; r++) y[r] = finish_dot<L>(acc[r], w + r * n, x, i, n);
}

template <class L>
void matvec_t(const typename L::T* w, int64_t R, const float* x, int64_t n, float* y) {
  int64_t r = 0;
  for (; r + 8 <= R; r += 8) matvec_rows<L, 8>(w + r * n, x, n, y + r);
  for (; r < R; r++) matvec_rows<L, 1>(w + r * n, x, n, y + r);
}

}  // namespace

const CpuKernels& cpu_kernels_avx512_table() {
  static const CpuKernels k = [] {
    CpuKernels t = cpu_kernels_avx2_table();
    t.isa = "avx512";
    t.dot_f32 = dot_t<F32Row>;
    t.dot_f16 = dot_t<F16Row>;
    t.dot_bf16 = dot_t<BF16Row>;
    t.gemm_f32 = gemm_f32_avx512;
    t.matvec_f16 = matvec_t<F16Row>;
    t.matvec_bf16 = matvec_t<BF16Row>;
    return t;
  }();
  return k;
}

}  // namespace paddock
