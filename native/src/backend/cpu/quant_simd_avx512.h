// Helpers shared by the AVX-512 VNNI legacy-quant kernels (quant_gemv_avx512.cpp,
// quant_gemm_avx512.cpp). Everything is static / in an unnamed namespace: inline code compiled
// for AVX-512 must never become a symbol the linker could hand to baseline code (see the note
// in quant_simd_x86.h). Include only from *_avx512.cpp files.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "quant_avx512.h"
#include "quant_blocks.h"

namespace paddock::quant::avx512 {
namespace {

// vpdpbusd multiplies unsigned by signed bytes, so weights are made unsigned (Q4_0: the raw
// nibble 0..15; Q8_0: w + 128) and the offset comes back through the activation's block sum:
// sum (u - off) y = sum u y - off * sum y. Q4_1 nibbles are unsigned already; its min m is
// applied through the Q8_1 activation's s = d * sum(y), as a second term per block.
template <QuantType T>
struct Legacy;

template <>
struct Legacy<QuantType::Q4_0> {
  using Act = block_q8_0;
  static constexpr bool kMin = false;
  static constexpr size_t kBytes = sizeof(block_q4_0);
  static constexpr int kOffset = 8;
  // The 32 nibbles of a block as unsigned bytes in element order (low nibbles, then high).
  PQ_AVX512_INLINE_MEMBER static __m256i quants(const uint8_t* blk) {
    const __m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 2)));
    return _mm256_and_si256(_mm256_srlv_epi32(v, _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4)), _mm256_set1_epi8(0x0F));
  }
};

template <>
struct Legacy<QuantType::Q4_1> {
  using Act = block_q8_1;
  static constexpr bool kMin = true;
  static constexpr size_t kBytes = sizeof(block_q4_1);
  static constexpr int kOffset = 0;
  PQ_AVX512_INLINE_MEMBER static __m256i quants(const uint8_t* blk) {
    const __m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 4)));
    return _mm256_and_si256(_mm256_srlv_epi32(v, _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4)), _mm256_set1_epi8(0x0F));
  }
};

template <>
struct Legacy<QuantType::Q8_0> {
  using Act = block_q8_0;
  static constexpr bool kMin = false;
  static constexpr size_t kBytes = sizeof(block_q8_0);
  static constexpr int kOffset = 128;
  PQ_AVX512_INLINE_MEMBER static __m256i quants(const uint8_t* blk) {
    return _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 2)), _mm256_set1_epi8(char(0x80)));
  }
};

PQ_AVX512_INLINE int hsum_epi32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x1));
  return _mm_cvtsi128_si32(s);
}

PQ_AVX512_INLINE uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

PQ_AVX512_INLINE int32_t load_i32(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Per-block activation terms shared by every weight row: -off * sum(y) (int), d_a and (Q8_1)
// s_a as floats.
template <QuantType T>
PQ_AVX512_INLINE void act_terms(int nb, const void* act, int32_t* corr, float* da, float* sa) {
  using Act = typename Legacy<T>::Act;
  const Act* a = static_cast<const Act*>(act);
  const float* tab = fp16_table();
  const __m256i off = _mm256_set1_epi8(char(Legacy<T>::kOffset));
  for (int b = 0; b < nb; b++) {
    const __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[b].qs));
    corr[b] = Legacy<T>::kOffset ? -hsum_epi32(_mm256_dpbusd_epi32(_mm256_setzero_si256(), off, y)) : 0;
    da[b] = tab[a[b].d];
    if constexpr (Legacy<T>::kMin) sa[b] = tab[a[b].s];
  }
}

// Where block b's quants start in an activation row of T's Act blocks.
template <QuantType T>
PQ_AVX512_INLINE const int8_t* act_qs(const uint8_t* act, int b) {
  return reinterpret_cast<const typename Legacy<T>::Act*>(act)[b].qs;
}

// Lane r of the result = sum of the 8 lanes of v[r].
PQ_AVX512_INLINE __m256i reduce8(const __m256i v[8]) {
  __m256i p[4];
  for (int k = 0; k < 4; k++)
    p[k] = _mm256_add_epi32(_mm256_unpacklo_epi32(v[2 * k], v[2 * k + 1]), _mm256_unpackhi_epi32(v[2 * k], v[2 * k + 1]));
  const __m256i q0 = _mm256_add_epi32(_mm256_unpacklo_epi64(p[0], p[1]), _mm256_unpackhi_epi64(p[0], p[1]));
  const __m256i q1 = _mm256_add_epi32(_mm256_unpacklo_epi64(p[2], p[3]), _mm256_unpackhi_epi64(p[2], p[3]));
  return _mm256_add_epi32(_mm256_permute2x128_si256(q0, q1, 0x20), _mm256_permute2x128_si256(q0, q1, 0x31));
}

// GEMMs repack a panel of weight rows once per chunk of tokens: as many whole tiles of
// tile_tokens as keep the chunk's activations (act_row_bytes each) in L2, at least one tile.
constexpr size_t kChunkActBytes = 1280 * 1024;
inline int tokens_per_panel_repack(size_t act_row_bytes, int tile_tokens) {
  const int fit = int(kChunkActBytes / act_row_bytes) / tile_tokens * tile_tokens;
  return fit > tile_tokens ? fit : tile_tokens;
}

// GEMM panels: 16 rows of 32 bytes each (row r at src + r * stride) -> q[g][4r..4r+3] = bytes
// 4g..4g+3 of row r, g = 0..7 (q rows 64 bytes apart): two 8x8 dword transposes.
PQ_AVX512_INLINE void transpose_16x8(const uint8_t* src, size_t stride, uint8_t (*q)[64]) {
  for (int half = 0; half < 2; half++) {
    __m256i u[8], t[8], s[8];
    for (int r = 0; r < 8; r++) u[r] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + (8 * half + r) * stride));
    for (int k = 0; k < 4; k++) {
      t[2 * k] = _mm256_unpacklo_epi32(u[2 * k], u[2 * k + 1]);
      t[2 * k + 1] = _mm256_unpackhi_epi32(u[2 * k], u[2 * k + 1]);
    }
    for (int k = 0; k < 2; k++) {  // s[4k + i]: dword i (lo lane) / i + 4 (hi lane) of rows 4k..4k+3
      s[4 * k + 0] = _mm256_unpacklo_epi64(t[4 * k], t[4 * k + 2]);
      s[4 * k + 1] = _mm256_unpackhi_epi64(t[4 * k], t[4 * k + 2]);
      s[4 * k + 2] = _mm256_unpacklo_epi64(t[4 * k + 1], t[4 * k + 3]);
      s[4 * k + 3] = _mm256_unpackhi_epi64(t[4 * k + 1], t[4 * k + 3]);
    }
    for (int g = 0; g < 4; g++) {
      _mm256_store_si256(reinterpret_cast<__m256i*>(q[g] + 32 * half), _mm256_permute2x128_si256(s[g], s[g + 4], 0x20));
      _mm256_store_si256(reinterpret_cast<__m256i*>(q[g + 4] + 32 * half), _mm256_permute2x128_si256(s[g], s[g + 4], 0x31));
    }
  }
}

}  // namespace
}  // namespace paddock::quant::avx512
