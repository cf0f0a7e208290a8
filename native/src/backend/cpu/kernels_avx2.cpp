// AVX2 + FMA + F16C kernels (this file alone is compiled with -mavx2 -mfma -mf16c; it is only
// called after cpu_features().avx2). Lane layout matches kernels.cpp's baseline.
#include <immintrin.h>

#include "backend/cpu/kernels.h"
#include "core/dtype.h"

namespace paddock {

static inline float reduce8(__m256 v) {
  // lanes (0+4, 1+5, 2+6, 3+7), then (0+2, 1+3), then (0+1): the baseline's tree
  __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
  __m128 s = _mm_add_ps(lo, hi);
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

static inline __m256 load_f16(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)p)); }
static inline __m256 load_bf16(const uint16_t* p) {
  __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i*)p));
  return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
}

// Two accumulators: a0 holds lanes 0..7 of the baseline's 16, a1 lanes 8..15.
#define PD_DOT_AVX2(LOADW, TAIL_W)                                                       \
  __m256 a0 = _mm256_setzero_ps(), a1 = a0;                                            \
  int64_t i = 0;                                                                       \
  for (; i + 16 <= n; i += 16) {                                                       \
    a0 = _mm256_fmadd_ps(LOADW(i), _mm256_loadu_ps(x + i), a0);                        \
    a1 = _mm256_fmadd_ps(LOADW(i + 8), _mm256_loadu_ps(x + i + 8), a1);                \
  }                                                                                    \
  for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(LOADW(i), _mm256_loadu_ps(x + i), a0); \
  float sum = reduce8(_mm256_add_ps(a0, a1));                                          \
  for (; i < n; i++) sum += TAIL_W(i) * x[i];                                          \
  return sum;

static float dot_f32_avx2(const float* w, const float* x, int64_t n) {
#define LW(k) _mm256_loadu_ps(w + (k))
#define TW(k) w[k]
  PD_DOT_AVX2(LW, TW)
#undef LW
#undef TW
}

static float dot_f16_avx2(const uint16_t* w, const float* x, int64_t n) {
#define LW(k) load_f16(w + (k))
#define TW(k) fp16_to_fp32(w[k])
  PD_DOT_AVX2(LW, TW)
#undef LW
#undef TW
}

static float dot_bf16_avx2(const uint16_t* w, const float* x, int64_t n) {
#define LW(k) load_bf16(w + (k))
#define TW(k) bf16_to_fp32(w[k])
  PD_DOT_AVX2(LW, TW)
#undef LW
#undef TW
}

// R weight rows against one token, each row with dot_f32_avx2's two accumulators: each load
// of x feeds R FMAs instead of one.
template <int R>
static void gemm_rows_avx2(const float* w, int64_t ldw, const float* x, int64_t n, float* y) {
  __m256 a[R][2];
  for (int r = 0; r < R; r++) a[r][0] = a[r][1] = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    for (int j = 0; j < 2; j++) {
      const __m256 xv = _mm256_loadu_ps(x + i + 8 * j);
      for (int r = 0; r < R; r++) a[r][j] = _mm256_fmadd_ps(_mm256_loadu_ps(w + r * ldw + i + 8 * j), xv, a[r][j]);
    }
  }
  for (int r = 0; r < R; r++) {
    const float* wr = w + r * ldw;
    int64_t k = i;
    for (; k + 8 <= n; k += 8) a[r][0] = _mm256_fmadd_ps(_mm256_loadu_ps(wr + k), _mm256_loadu_ps(x + k), a[r][0]);
    float sum = reduce8(_mm256_add_ps(a[r][0], a[r][1]));
    for (; k < n; k++) sum += wr[k] * x[k];
    y[r] = sum;
  }
}

// Rows in blocks of 4 outermost (they stay in L1), tokens streaming past; y[t * ldy + r].
static void gemm_f32_avx2(const float* w, int64_t ldw, int64_t R, const float* x, int64_t ldx, int64_t C, int64_t n,
                          float* y, int64_t ldy) {
  float out[4];
  for (int64_t r = 0; r < R; r += 4) {
    const int64_t nr = R - r < 4 ? R - r : 4;
    for (int64_t t = 0; t < C; t++) {
      const float* xt = x + t * ldx;
      if (nr == 4) {
        gemm_rows_avx2<4>(w + r * ldw, ldw, xt, n, out);
      } else if (nr == 3) {
        gemm_rows_avx2<3>(w + r * ldw, ldw, xt, n, out);
      } else if (nr == 2) {
        gemm_rows_avx2<2>(w + r * ldw, ldw, xt, n, out);
      } else {
        gemm_rows_avx2<1>(w + r * ldw, ldw, xt, n, out);
      }
      for (int64_t j = 0; j < nr; j++) y[t * ldy + r + j] = out[j];
    }
  }
}

static inline float f16_scalar(uint16_t h) { return fp16_to_fp32(h); }
static inline float bf16_scalar(uint16_t h) { return bf16_to_fp32(h); }

// Decode matvec: four half-precision rows per pass share each load of x and give eight
// independent FMA chains; each row summed exactly as dot_f16 / dot_bf16.
template <__m256 (*LW)(const uint16_t*), float (*TW)(uint16_t), int R>
static void matvec_rows_avx2(const uint16_t* w, const float* x, int64_t n, float* y) {
  __m256 a[R][2];
  for (int r = 0; r < R; r++) a[r][0] = a[r][1] = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 x0 = _mm256_loadu_ps(x + i), x1 = _mm256_loadu_ps(x + i + 8);
    for (int r = 0; r < R; r++) {
      a[r][0] = _mm256_fmadd_ps(LW(w + r * n + i), x0, a[r][0]);
      a[r][1] = _mm256_fmadd_ps(LW(w + r * n + i + 8), x1, a[r][1]);
    }
  }
  for (int r = 0; r < R; r++) {
    const uint16_t* wr = w + r * n;
    int64_t k = i;
    for (; k + 8 <= n; k += 8) a[r][0] = _mm256_fmadd_ps(LW(wr + k), _mm256_loadu_ps(x + k), a[r][0]);
    float sum = reduce8(_mm256_add_ps(a[r][0], a[r][1]));
    for (; k < n; k++) sum += TW(wr[k]) * x[k];
    y[r] = sum;
  }
}

template <__m256 (*LW)(const uint16_t*), float (*TW)(uint16_t)>
static void matvec_avx2(const uint16_t* w, int64_t R, const float* x, int64_t n, float* y) {
  int64_t r = 0;
  for (; r + 4 <= R; r += 4) matvec_rows_avx2<LW, TW, 4>(w + r * n, x, n, y + r);
  for (; r < R; r++) matvec_rows_avx2<LW, TW, 1>(w + r * n, x, n, y + r);
}

static void f16_to_f32_avx2(const uint16_t* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, load_f16(x + i));
  for (; i < n; i++) y[i] = fp16_to_fp32(x[i]);
}

static void bf16_to_f32_avx2(const uint16_t* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, load_bf16(x + i));
  for (; i < n; i++) y[i] = bf16_to_fp32(x[i]);
}

static void f32_to_f16_avx2(const float* x, uint16_t* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128((__m128i*)(y + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; i++) y[i] = fp32_to_fp16(x[i]);
}

static void axpy_avx2(float a, const float* x, float* y, int64_t n) {
  const __m256 va = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; i++) y[i] += a * x[i];
}

// ((a0+a1)+(a2+a3)) + ((a4+a5)+(a6+a7)): the order the 8-at-a-time transpose below produces.
static inline float reduce8_hadd(__m256 a) {
  __m256 t = _mm256_hadd_ps(a, a);
  t = _mm256_hadd_ps(t, t);
  return _mm_cvtss_f32(_mm_add_ss(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1)));
}

// 8 cached elements as floats (F32 cache, or F16 converted exactly), and a row dot that is
// dot_f32(q, row) either way (dot_f16(row, q) multiplies the same pairs in the same order).
static inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
static inline __m256 load8(const uint16_t* p) { return load_f16(p); }
static inline float dot_row(const float* q, const float* k, int64_t n) { return dot_f32_avx2(q, k, n); }
static inline float dot_row(const float* q, const uint16_t* k, int64_t n) { return dot_f16_avx2(k, q, n); }
static inline void axpy_row(float a, const float* v, float* out, int64_t n) { axpy_avx2(a, v, out, n); }
static inline void axpy_row(float a, const uint16_t* v, float* out, int64_t n) {
  float row[256];
  for (int64_t i = 0; i < n; i += 256) {
    const int64_t m = n - i < 256 ? n - i : 256;
    f16_to_f32_avx2(v + i, row, m);
    axpy_avx2(a, row, out + i, m);
  }
}

// Scores of 8 positions at once: one accumulator per position over the head's 8-float chunks,
// then a transpose-by-hadd so the 8 horizontal sums cost 6 shuffles instead of 8 reductions.
template <class KT>
static void attn_scores_t(const float* q, const KT* k, int64_t stride, int64_t n, int64_t hd, float scale,
                          float* scores) {
  if (hd % 8 != 0) {
    for (int64_t p = 0; p < n; p++) scores[p] = dot_row(q, k + p * stride, hd) * scale;
    return;
  }
  const __m256 vscale = _mm256_set1_ps(scale);
  int64_t p = 0;
  for (; p + 8 <= n; p += 8) {
    __m256 acc[8];
    for (int j = 0; j < 8; j++) acc[j] = _mm256_setzero_ps();
    for (int64_t c = 0; c < hd; c += 8) {
      const __m256 qv = _mm256_loadu_ps(q + c);
      for (int j = 0; j < 8; j++) acc[j] = _mm256_fmadd_ps(qv, load8(k + (p + j) * stride + c), acc[j]);
    }
    const __m256 s01 = _mm256_hadd_ps(acc[0], acc[1]), s23 = _mm256_hadd_ps(acc[2], acc[3]);
    const __m256 s45 = _mm256_hadd_ps(acc[4], acc[5]), s67 = _mm256_hadd_ps(acc[6], acc[7]);
    const __m256 s0123 = _mm256_hadd_ps(s01, s23), s4567 = _mm256_hadd_ps(s45, s67);
    const __m256 lo = _mm256_permute2f128_ps(s0123, s4567, 0x20), hi = _mm256_permute2f128_ps(s0123, s4567, 0x31);
    _mm256_storeu_ps(scores + p, _mm256_mul_ps(_mm256_add_ps(lo, hi), vscale));
  }
  for (; p < n; p++) {
    __m256 acc = _mm256_setzero_ps();
    for (int64_t c = 0; c < hd; c += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(q + c), load8(k + p * stride + c), acc);
    scores[p] = reduce8_hadd(acc) * scale;
  }
}

// out = sum_p w[p] * v_p, 8 dims at a time with 4 independent accumulators over positions.
template <class VT>
static void attn_values_t(const float* w, const VT* v, int64_t stride, int64_t n, int64_t hd, float* out) {
  if (hd % 8 != 0) {
    for (int64_t i = 0; i < hd; i++) out[i] = 0.0f;
    for (int64_t p = 0; p < n; p++) axpy_row(w[p], v + p * stride, out, hd);
    return;
  }
  for (int64_t c = 0; c < hd; c += 8) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    const VT* vc = v + c;
    int64_t p = 0;
    for (; p + 4 <= n; p += 4) {
      a0 = _mm256_fmadd_ps(_mm256_set1_ps(w[p]), load8(vc + p * stride), a0);
      a1 = _mm256_fmadd_ps(_mm256_set1_ps(w[p + 1]), load8(vc + (p + 1) * stride), a1);
      a2 = _mm256_fmadd_ps(_mm256_set1_ps(w[p + 2]), load8(vc + (p + 2) * stride), a2);
      a3 = _mm256_fmadd_ps(_mm256_set1_ps(w[p + 3]), load8(vc + (p + 3) * stride), a3);
    }
    for (; p < n; p++) a0 = _mm256_fmadd_ps(_mm256_set1_ps(w[p]), load8(vc + p * stride), a0);
    _mm256_storeu_ps(out + c, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  }
}

// exp(x) for x <= 88: x = n ln2 + r with |r| <= ln2/2 (ln2 split in two for exactness), a
// degree-7 polynomial for exp(r) (Cephes expf coefficients), then 2^n built in the exponent
// bits. Inputs below -87.3 give exactly 0 (as expf underflows): never a denormal, whose
// arithmetic would be ~100x slower in the weighted sum that follows.
static inline __m256 exp_avx2(__m256 x) {
  const __m256 underflow = _mm256_cmp_ps(x, _mm256_set1_ps(-87.3f), _CMP_LT_OQ);
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3f)), _mm256_set1_ps(88.3f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_andnot_ps(underflow, _mm256_mul_ps(p, _mm256_castsi256_ps(e)));
}

static void softmax_avx2(float* x, int64_t n) {
  int64_t i = 0;
  __m256 vmax = _mm256_set1_ps(x[0]);
  for (; i + 8 <= n; i += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(x + i));
  __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(vmax), _mm256_extractf128_ps(vmax, 1));
  m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
  m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
  float max_val = _mm_cvtss_f32(m4);
  for (; i < n; i++) max_val = x[i] > max_val ? x[i] : max_val;
  const __m256 vm = _mm256_set1_ps(max_val);
  __m256 vsum = _mm256_setzero_ps();
  for (i = 0; i + 8 <= n; i += 8) {
    const __m256 e = exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm));
    _mm256_storeu_ps(x + i, e);
    vsum = _mm256_add_ps(vsum, e);
  }
  float sum = reduce8(vsum);
  for (; i < n; i++) {
    float e[8] = {x[i] - max_val};
    _mm256_storeu_ps(e, exp_avx2(_mm256_loadu_ps(e)));
    x[i] = e[0];
    sum += e[0];
  }
  const __m256 vs = _mm256_set1_ps(sum);
  for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_div_ps(_mm256_loadu_ps(x + i), vs));
  for (; i < n; i++) x[i] /= sum;
}

const CpuKernels& cpu_kernels_avx2_table() {
  static const CpuKernels k = {"avx2",
                               dot_f32_avx2,
                               dot_f16_avx2,
                               dot_bf16_avx2,
                               f16_to_f32_avx2,
                               bf16_to_f32_avx2,
                               f32_to_f16_avx2,
                               gemm_f32_avx2,
                               matvec_avx2<load_f16, f16_scalar>,
                               matvec_avx2<load_bf16, bf16_scalar>,
                               axpy_avx2,
                               attn_scores_t<float>,
                               attn_values_t<float>,
                               attn_scores_t<uint16_t>,
                               attn_values_t<uint16_t>,
                               softmax_avx2};
  return k;
}

}  // namespace paddock
