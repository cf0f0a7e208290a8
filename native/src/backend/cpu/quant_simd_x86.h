// Shared helpers for the x86 SIMD quant kernels. Every function that uses AVX2/FMA/F16C
// intrinsics carries a target attribute, so the kernels build without per-file flags (CMake
// also gives *_avx2.cpp files -mavx2 -mfma -mf16c; either way works). The dispatcher
// (quant_dispatch.cpp) only calls them after checking the CPU. Include only from x86-only
// translation units.
//
// Helpers here are static (internal linkage) on purpose, and the *_avx2.cpp files call no
// inline function from shared headers: an inline function compiled with AVX2 enabled in one
// file and without in another is one symbol to the linker, which may keep the AVX2 copy for
// everyone, and baseline CPUs would then fault in scalar code.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#if defined(__GNUC__) || defined(__clang__)
#define PQ_AVX2_FN __attribute__((target("avx2,fma,f16c")))
#define PQ_AVX2_INLINE static inline __attribute__((always_inline, target("avx2,fma,f16c")))
#define PQ_AVX2_INLINE_MEMBER inline __attribute__((always_inline, target("avx2,fma,f16c")))
#else  // MSVC: intrinsics are always available, no per-function target needed
#define PQ_AVX2_FN
#define PQ_AVX2_INLINE static __forceinline
#define PQ_AVX2_INLINE_MEMBER __forceinline
#endif

namespace paddock::quant::x86 {

PQ_AVX2_INLINE float hsum_f32x8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

PQ_AVX2_INLINE float hsum_f32x4(__m128 s) {
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

PQ_AVX2_INLINE int hsum_i32x8(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x1));
  return _mm_cvtsi128_si32(s);
}

PQ_AVX2_INLINE float f16_to_f32(uint16_t h) { return _cvtsh_ss(h); }
PQ_AVX2_INLINE uint16_t f32_to_f16(float f) { return _cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }

// Q4_K/Q5_K 6-bit scales and mins of one super-block, unpacked to out[0..7] = scales,
// out[8..15] = mins (same as kq_scale_min in quant_blocks.h, kept local per the note above).
PQ_AVX2_INLINE void kq_unpack_scales_x86(const uint8_t* q, uint8_t out[16]) {
  uint32_t w[3];
  std::memcpy(w, q, 12);
  const uint32_t r[4] = {w[0] & 0x3f3f3f3fu, (w[2] & 0x0f0f0f0fu) | (((w[0] >> 6) & 0x03030303u) << 4),
                         w[1] & 0x3f3f3f3fu, ((w[2] >> 4) & 0x0f0f0f0fu) | (((w[1] >> 6) & 0x03030303u) << 4)};
  std::memcpy(out, r, 16);
}

// 16 bytes of nibbles -> 32 bytes: low nibbles in bytes 0..15, high nibbles in 16..31, which
// is the element order of Q4_0/Q4_1. Broadcast-load + per-lane variable shift instead of an
// insert keeps the shuffle port free (it is the bottleneck of these loops).
PQ_AVX2_INLINE __m256i unpack_nibbles_16(const uint8_t* p) {
  const __m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  const __m256i shifted = _mm256_srlv_epi32(v, _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4));
  return _mm256_and_si256(shifted, _mm256_set1_epi8(0x0F));
}

// Broadcast of a float (or any 32-bit pattern stored as one) straight from memory: a pure load.
PQ_AVX2_INLINE __m256 bcast(const float* p) { return _mm256_broadcast_ss(p); }

// Scale (as float) of an fp16 field, read through the 64K-entry table, broadcast.
PQ_AVX2_INLINE __m256 bcast_f16(const float* table, uint16_t h) { return _mm256_broadcast_ss(table + h); }

// u8 x s8 products summed in fours into 8 int32 lanes. maddubs saturates its int16 pair sums,
// so callers keep |u| * |s| * 2 < 32768 (true for 4/5/6-bit weights against int8).
PQ_AVX2_INLINE __m256i dot_u8s8_i32(__m256i u, __m256i s) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

// u8 x s8 pair sums (int16) times a per-lane int16 scale, summed into 8 int32 lanes.
PQ_AVX2_INLINE __m256i dot_u8s8_scaled(__m256i u, __m256i s, __m256i scale16) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), scale16);
}

// Round half away from zero (C's roundf) for |x| < 2^23: trunc(x + copysign(0.5 - 2^-25, x)).
// The quantity added is just under one half so x = k + 0.5 - ulp doesn't round up.
PQ_AVX2_INLINE __m256 round_half_away(__m256 x) {
  const __m256 sign = _mm256_and_ps(x, _mm256_set1_ps(-0.0f));
  const __m256 half = _mm256_or_ps(_mm256_set1_ps(0.49999997f), sign);
  return _mm256_round_ps(_mm256_add_ps(x, half), _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
}

// Four vectors of 8 int32 (each within int8 range) -> 32 int8 in the original order.
PQ_AVX2_INLINE __m256i pack_i32x32_to_i8(__m256i a, __m256i b, __m256i c, __m256i d) {
  const __m256i ab = _mm256_packs_epi32(a, b);  // per-128 interleave: a0-3 b0-3 | a4-7 b4-7
  const __m256i cd = _mm256_packs_epi32(c, d);
  const __m256i abcd = _mm256_packs_epi16(ab, cd);
  return _mm256_permutevar8x32_epi32(abcd, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

}  // namespace paddock::quant::x86
