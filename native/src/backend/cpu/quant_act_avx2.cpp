// AVX2 activation quantizers (Q8_0, Q8_1, Q8_K). They produce exactly the bytes of the
// reference quantizers in quant_ref.cpp (same scale arithmetic, same rounding rule), so a
// matvec gives the same answer whichever ISA quantized its input. Note ggml's own AVX2 Q8_0
// rounds ties to even where its reference rounds them away from zero; we keep the reference.
#include "quant_kernels.h"

#if defined(PADDOCK_QUANT_X86)

#include <cstring>

#include "quant.h"
#include "quant_simd_x86.h"

namespace paddock::quant::avx2 {

using namespace paddock::quant::x86;

namespace {

PQ_AVX2_INLINE float hmax_f32x8(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

// One 32-value block, symmetric with d = amax/127; returns d, writes qs, adds sum(qs) to *sum.
PQ_AVX2_INLINE float quantize_block32(const float* x, int8_t* qs, int* sum) {
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  __m256 v[4];
  __m256 amax = _mm256_setzero_ps();
  for (int k = 0; k < 4; k++) {
    v[k] = _mm256_loadu_ps(x + 8 * k);
    amax = _mm256_max_ps(amax, _mm256_and_ps(v[k], abs_mask));
  }
  const float d = hmax_f32x8(amax) / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  const __m256 vid = _mm256_set1_ps(id);
  __m256i q[4];
  for (int k = 0; k < 4; k++) q[k] = _mm256_cvttps_epi32(round_half_away(_mm256_mul_ps(v[k], vid)));
  if (sum) *sum += hsum_i32x8(_mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3])));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(qs), pack_i32x32_to_i8(q[0], q[1], q[2], q[3]));
  return d;
}

}  // namespace

PQ_AVX2_FN bool quantize_row_q8_0(const float* x, void* vy, int64_t n) {
  if (n % QK) return false;
  block_q8_0* y = static_cast<block_q8_0*>(vy);
  for (int64_t i = 0; i < n / QK; i++, x += QK) y[i].d = f32_to_f16(quantize_block32(x, y[i].qs, nullptr));
  return true;
}

PQ_AVX2_FN bool quantize_row_q8_1(const float* x, void* vy, int64_t n) {
  if (n % QK) return false;
  block_q8_1* y = static_cast<block_q8_1*>(vy);
  for (int64_t i = 0; i < n / QK; i++, x += QK) {
    int sum = 0;
    const float d = quantize_block32(x, y[i].qs, &sum);
    y[i].d = f32_to_f16(d);
    y[i].s = f32_to_f16(float(sum) * d);
  }
  return true;
}

PQ_AVX2_FN bool quantize_row_q8_K(const float* x, void* vy, int64_t n) {
  if (n % QK_K) return false;
  block_q8_K* y = static_cast<block_q8_K*>(vy);
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
    __m256 vmax = _mm256_setzero_ps();
    for (int k = 0; k < QK_K; k += 8) vmax = _mm256_max_ps(vmax, _mm256_and_ps(_mm256_loadu_ps(x + k), abs_mask));
    const float amax = hmax_f32x8(vmax);
    if (amax == 0.0f) {
      std::memset(&y[i], 0, sizeof(block_q8_K));
      continue;
    }
    // The reference takes the sign of the first element reaching amax; find that element.
    float max = amax;
    for (int k = 0; k < QK_K; k += 8) {
      const __m256 eq = _mm256_cmp_ps(_mm256_and_ps(_mm256_loadu_ps(x + k), abs_mask), _mm256_set1_ps(amax), _CMP_EQ_OQ);
      const int mask = _mm256_movemask_ps(eq);
      if (mask) {
        int j = 0;
        while (!((mask >> j) & 1)) j++;
        max = x[k + j];
        break;
      }
    }
    const float iscale = -127.0f / max;
    const __m256 vs = _mm256_set1_ps(iscale);
    const __m256i lim = _mm256_set1_epi32(127);
    for (int k = 0; k < QK_K; k += 32) {
      __m256i q[4];
      for (int j = 0; j < 4; j++)  // cvtps rounds half to even (default MXCSR), as nearbyint
        q[j] = _mm256_min_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + k + 8 * j), vs)), lim);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[i].qs + k), pack_i32x32_to_i8(q[0], q[1], q[2], q[3]));
    }
    for (int g = 0; g < QK_K / 16; g++) {
      int s = 0;
      for (int j = 0; j < 16; j++) s += y[i].qs[16 * g + j];
      y[i].bsums[g] = int16_t(s);
    }
    y[i].d = 1.0f / iscale;
  }
  return true;
}

// ---- F16C row conversions
PQ_AVX2_FN void fp16_to_fp32_row(const uint16_t* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i))));
  for (; i < n; i++) y[i] = _cvtsh_ss(x[i]);
}

PQ_AVX2_FN void fp32_to_fp16_row(const float* x, uint16_t* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  for (; i < n; i++) y[i] = _cvtss_sh(x[i], _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

}  // namespace paddock::quant::avx2

#endif  // PADDOCK_QUANT_X86
