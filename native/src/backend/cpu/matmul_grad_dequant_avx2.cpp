// SIMD dequantizers for the input grad's B panels (compiled with -mavx2 -mfma -mf16c, reached
// through the AVX2 and AVX-512 grad tables only). Each gives exactly the reference to_float's
// bits: integer -> float conversions are exact, and every product and difference is rounded
// once in the same order as quant_ref.cpp / quant_kquants_ref.cpp compute it (no fusing).
// Only the usual QLoRA bases: the reference Q4_0 dequant costs ~15% of an input grad at 256
// tokens, Q4_K's ~6%; other types keep the reference.
#include <immintrin.h>

#include "backend/cpu/matmul_grad_kernels.h"
#include "backend/cpu/quant_blocks.h"
#include "core/fp16.h"

namespace paddock {

namespace {

// The low 8 bytes of q as 32-bit integers.
inline __m256i widen8(__m128i q) { return _mm256_cvtepu8_epi32(q); }

// Q4_0: y = float(q - 8) * d.
inline void store_q4_0(__m128i q, __m256 d, float* y) {
  const __m256i v = _mm256_sub_epi32(widen8(q), _mm256_set1_epi32(8));
  _mm256_storeu_ps(y, _mm256_mul_ps(_mm256_cvtepi32_ps(v), d));
}

bool to_float_q4_0(const void* x, float* y, int64_t n) {
  if (n % quant::QK) return false;
  const quant::block_q4_0* b = static_cast<const quant::block_q4_0*>(x);
  const __m128i low4 = _mm_set1_epi8(0x0f);
  for (int64_t i = 0; i < n / quant::QK; i++, y += quant::QK) {
    const __m256 d = _mm256_set1_ps(fp16_to_fp32(b[i].d));
    const __m128i q = _mm_loadu_si128((const __m128i*)b[i].qs);
    const __m128i lo = _mm_and_si128(q, low4), hi = _mm_and_si128(_mm_srli_epi16(q, 4), low4);
    store_q4_0(lo, d, y);  // elements 0..15: low nibbles
    store_q4_0(_mm_srli_si128(lo, 8), d, y + 8);
    store_q4_0(hi, d, y + 16);  // elements 16..31: high nibbles
    store_q4_0(_mm_srli_si128(hi, 8), d, y + 24);
  }
  return true;
}

// Q4_K: 32 nibbles (bytes of q, already masked) as y = d1 * float(q) - m1.
inline void store_q4_k32(__m256i q, float d1, float m1, float* y) {
  const __m256 d = _mm256_set1_ps(d1), m = _mm256_set1_ps(m1);
  const __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
  const __m128i parts[4] = {lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8)};
  for (int p = 0; p < 4; p++)
    _mm256_storeu_ps(y + 8 * p, _mm256_sub_ps(_mm256_mul_ps(d, _mm256_cvtepi32_ps(widen8(parts[p]))), m));
}

bool to_float_q4_k(const void* x, float* y, int64_t n) {
  if (n % quant::QK_K) return false;
  const quant::block_q4_K* b = static_cast<const quant::block_q4_K*>(x);
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  for (int64_t i = 0; i < n / quant::QK_K; i++) {
    const float d = fp16_to_fp32(b[i].d), dmin = fp16_to_fp32(b[i].dmin);
    uint8_t sm[16];  // scales 0..7, mins 8..15
    quant::kq_unpack_scales(b[i].scales, sm);
    for (int c = 0; c < 4; c++, y += 64) {
      const __m256i q = _mm256_loadu_si256((const __m256i*)(b[i].qs + 32 * c));
      store_q4_k32(_mm256_and_si256(q, low4), d * float(sm[2 * c]), dmin * float(sm[8 + 2 * c]), y);
      store_q4_k32(_mm256_and_si256(_mm256_srli_epi16(q, 4), low4), d * float(sm[2 * c + 1]),
                   dmin * float(sm[8 + 2 * c + 1]), y + 32);
    }
  }
  return true;
}

}  // namespace

GradRowToFloat grad_simd_to_float_avx2(DType t) {
  return t == DType::Q4_0 ? to_float_q4_0 : t == DType::Q4_K ? to_float_q4_k : nullptr;
}

}  // namespace paddock
