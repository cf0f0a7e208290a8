// AVX2 + FMA dot products, weight row x activation row(s), the way llama.cpp computes them:
// unpack a weight block to bytes, multiply against the int8 activation block with maddubs /
// madd (exact int32), convert once per block and scale in float. Block scales are read through
// the fp16 table as broadcast loads (see quant_fp16.h): with F16C's register form plus a
// broadcast, the shuffle port was the bottleneck and Q4_0 ran at half speed.
//
// Every kernel is a template over NA, the number of activation rows sharing each weight block
// load and unpack (prefill); vec_dot is NA = 1. The per-row operation order does not depend on
// NA, so a row's result is bit-identical whether it is computed alone or in a batch.
#include "quant_kernels.h"

#if defined(PADDOCK_QUANT_X86)

#include "quant.h"
#include "quant_simd_x86.h"

namespace paddock::quant::avx2 {

using namespace paddock::quant::x86;

namespace {

template <typename Block>
inline const Block* act_row(const void* a, size_t stride, int r) {
  return reinterpret_cast<const Block*>(static_cast<const char*>(a) + size_t(r) * stride);
}

// ---------------------------------------------------------------- Q4_0 x Q8_0
// Weights become signed bytes in [-8, 7]; signed x signed is done as |w| x (y with w's sign)
// so maddubs (unsigned x signed) applies.
template <int NA>
PQ_AVX2_FN void dot_q4_0(int n, const void* vw, const void* va, size_t stride, float* out) {
  const block_q4_0* w = static_cast<const block_q4_0*>(vw);
  const float* tab = fp16_table();
  const block_q8_0* a[NA];
  __m256 acc[NA];
  for (int r = 0; r < NA; r++) {
    a[r] = act_row<block_q8_0>(va, stride, r);
    acc[r] = _mm256_setzero_ps();
  }
  const __m256i eight = _mm256_set1_epi8(8);
  for (int i = 0; i < n / QK; i++) {
    const __m256i q = _mm256_sub_epi8(unpack_nibbles_16(w[i].qs), eight);
    const __m256i qabs = _mm256_sign_epi8(q, q);
    const __m256 dw = bcast_f16(tab, w[i].d);
    for (int r = 0; r < NA; r++) {
      const __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[r][i].qs));
      const __m256i p = dot_u8s8_i32(qabs, _mm256_sign_epi8(y, q));
      const __m256 d = _mm256_mul_ps(dw, bcast_f16(tab, a[r][i].d));
      acc[r] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(p), acc[r]);
    }
  }
  for (int r = 0; r < NA; r++) out[r] = hsum_f32x8(acc[r]);
}

// ---------------------------------------------------------------- Q4_1 x Q8_1
// Nibbles stay unsigned; the min folds in through the activation's precomputed d*sum(q), kept
// in its own (all lanes equal) accumulator and counted once at the end.
template <int NA>
PQ_AVX2_FN void dot_q4_1(int n, const void* vw, const void* va, size_t stride, float* out) {
  const block_q4_1* w = static_cast<const block_q4_1*>(vw);
  const float* tab = fp16_table();
  const block_q8_1* a[NA];
  __m256 acc[NA], accm[NA];
  for (int r = 0; r < NA; r++) {
    a[r] = act_row<block_q8_1>(va, stride, r);
    acc[r] = _mm256_setzero_ps();
    accm[r] = _mm256_setzero_ps();
  }
  for (int i = 0; i < n / QK; i++) {
    const __m256i q = unpack_nibbles_16(w[i].qs);
    const __m256 dw = bcast_f16(tab, w[i].d), mw = bcast_f16(tab, w[i].m);
    for (int r = 0; r < NA; r++) {
      const __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[r][i].qs));
      const __m256i p = dot_u8s8_i32(q, y);
      const __m256 d = _mm256_mul_ps(dw, bcast_f16(tab, a[r][i].d));
      acc[r] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(p), acc[r]);
      accm[r] = _mm256_fmadd_ps(mw, bcast_f16(tab, a[r][i].s), accm[r]);
    }
  }
  for (int r = 0; r < NA; r++) out[r] = hsum_f32x8(acc[r]) + _mm256_cvtss_f32(accm[r]);
}

// ---------------------------------------------------------------- Q8_0 x Q8_0
// |w| x sign-adjusted y: exact as long as the activation has no -128, which our Q8_0
// quantizer never produces (|q| <= 127).
template <int NA>
PQ_AVX2_FN void dot_q8_0(int n, const void* vw, const void* va, size_t stride, float* out) {
  const block_q8_0* w = static_cast<const block_q8_0*>(vw);
  const float* tab = fp16_table();
  const block_q8_0* a[NA];
  __m256 acc[NA];
  for (int r = 0; r < NA; r++) {
    a[r] = act_row<block_q8_0>(va, stride, r);
    acc[r] = _mm256_setzero_ps();
  }
  for (int i = 0; i < n / QK; i++) {
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[i].qs));
    const __m256i qabs = _mm256_sign_epi8(q, q);
    const __m256 dw = bcast_f16(tab, w[i].d);
    for (int r = 0; r < NA; r++) {
      const __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[r][i].qs));
      const __m256i p = dot_u8s8_i32(qabs, _mm256_sign_epi8(y, q));
      const __m256 d = _mm256_mul_ps(dw, bcast_f16(tab, a[r][i].d));
      acc[r] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(p), acc[r]);
    }
  }
  for (int r = 0; r < NA; r++) out[r] = hsum_f32x8(acc[r]);
}

// ---------------------------------------------------------------- K-quant helpers
// sum_j m_j * (bsums[2j] + bsums[2j+1]) for the 8 sub-block mins, as 4 int32 lanes.
PQ_AVX2_INLINE __m128i kq_min_products(const block_q8_K& y, __m128i mins16) {
  const __m128i b0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(y.bsums));
  const __m128i b1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(y.bsums + 8));
  return _mm_madd_epi16(mins16, _mm_hadd_epi16(b0, b1));  // hadd: per-32 sums, no saturation
}

// Per-sub-block int16 scales laid out for memory broadcasts: entry j holds scale j in both
// 16-bit halves, stored in a float array so _mm256_broadcast_ss (a pure load) can read it.
struct ScalePairs {
  alignas(32) float v[8];
  // 8 scales from 8 int32 lanes: duplicate the low 16 bits into the high 16 bits, then store.
  PQ_AVX2_INLINE_MEMBER void set(__m256i s32) {
    const __m256i lo = _mm256_and_si256(s32, _mm256_set1_epi32(0xFFFF));
    _mm256_store_ps(v, _mm256_castsi256_ps(_mm256_or_si256(lo, _mm256_slli_epi32(lo, 16))));
  }
  // int16 x16 with `scale j` in every lane.
  PQ_AVX2_INLINE_MEMBER __m256i all(int j) const { return _mm256_castps_si256(_mm256_broadcast_ss(&v[j])); }
};

// Q4_K and Q5_K: per 64-value chunk c, bytes lo (sub-block 2c) and hi (sub-block 2c+1), each
// multiplied by its 6-bit scale. HIGH_BIT adds Q5_K's fifth bit from qh.
template <int NA, bool HIGH_BIT>
PQ_AVX2_FN void dot_q45_K(int n, const uint8_t* base, size_t block_bytes, const void* va, size_t stride,
                          float* out) {
  const float* tab = fp16_table();
  const block_q8_K* a[NA];
  __m256 acc[NA];
  __m128 accm[NA];
  for (int r = 0; r < NA; r++) {
    a[r] = act_row<block_q8_K>(va, stride, r);
    acc[r] = _mm256_setzero_ps();
    accm[r] = _mm_setzero_ps();
  }
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  const __m256i one = _mm256_set1_epi8(1);
  for (int i = 0; i < n / QK_K; i++) {
    const uint8_t* blk = base + size_t(i) * block_bytes;
    // Both layouts start with d, dmin, scales[12]; Q5_K then has qh[32] before qs.
    uint16_t dbits, dminbits;
    std::memcpy(&dbits, blk, 2);
    std::memcpy(&dminbits, blk + 2, 2);
    const uint8_t* qs = blk + 4 + K_SCALE_SIZE + (HIGH_BIT ? QK_K / 8 : 0);
    alignas(16) uint8_t sm[16];
    kq_unpack_scales_x86(blk + 4, sm);
    ScalePairs sc;
    sc.set(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sm))));
    const __m128i mins16 = _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sm + 8)));
    __m256i hbits = _mm256_setzero_si256();
    if constexpr (HIGH_BIT) hbits = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 4 + K_SCALE_SIZE));

    __m256i sumi[NA];
    for (int r = 0; r < NA; r++) sumi[r] = _mm256_setzero_si256();
    for (int c = 0; c < 4; c++) {
      const __m256i bits = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * c));
      __m256i qlo = _mm256_and_si256(bits, low4);
      __m256i qhi = _mm256_and_si256(_mm256_srli_epi16(bits, 4), low4);
      if constexpr (HIGH_BIT) {
        // bit 2c of qh[l] is the fifth bit of the low half, bit 2c+1 of the high half
        qlo = _mm256_or_si256(qlo, _mm256_slli_epi16(_mm256_and_si256(hbits, one), 4));
        qhi = _mm256_or_si256(qhi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, 1), one), 4));
        hbits = _mm256_srli_epi16(hbits, 2);
      }
      const __m256i s_lo = sc.all(2 * c), s_hi = sc.all(2 * c + 1);
      for (int r = 0; r < NA; r++) {
        const __m256i* y = reinterpret_cast<const __m256i*>(a[r][i].qs + 64 * c);
        const __m256i p_lo = dot_u8s8_scaled(qlo, _mm256_loadu_si256(y), s_lo);
        const __m256i p_hi = dot_u8s8_scaled(qhi, _mm256_loadu_si256(y + 1), s_hi);
        sumi[r] = _mm256_add_epi32(sumi[r], _mm256_add_epi32(p_lo, p_hi));
      }
    }
    const __m256 dw = bcast_f16(tab, dbits), dminw = bcast_f16(tab, dminbits);
    for (int r = 0; r < NA; r++) {
      const __m256 dy = bcast(&a[r][i].d);
      acc[r] = _mm256_fmadd_ps(_mm256_mul_ps(dy, dw), _mm256_cvtepi32_ps(sumi[r]), acc[r]);
      const __m128i mp = kq_min_products(a[r][i], mins16);
      accm[r] = _mm_fmadd_ps(_mm256_castps256_ps128(_mm256_mul_ps(dy, dminw)), _mm_cvtepi32_ps(mp), accm[r]);
    }
  }
  for (int r = 0; r < NA; r++) out[r] = hsum_f32x8(acc[r]) - hsum_f32x4(accm[r]);
}

template <int NA>
PQ_AVX2_FN void dot_q4_K(int n, const void* vw, const void* va, size_t stride, float* out) {
  dot_q45_K<NA, false>(n, static_cast<const uint8_t*>(vw), sizeof(block_q4_K), va, stride, out);
}

template <int NA>
PQ_AVX2_FN void dot_q5_K(int n, const void* vw, const void* va, size_t stride, float* out) {
  dot_q45_K<NA, true>(n, static_cast<const uint8_t*>(vw), sizeof(block_q5_K), va, stride, out);
}

// ---------------------------------------------------------------- Q6_K x Q8_K
// 6-bit values are used unsigned (0..63) and the -32 offset is taken out afterwards through
// the activation's 16-value sums: sum sc*(q-32)*y = sum sc*q*y - 32 * sum sc*bsum.
// In-lane shuffle picking int16 element 2k into the low lane and 2k+1 into the high lane.
PQ_AVX2_INLINE __m256i q6_scale_shuffle(int k) {
  const char a = char(4 * k), b = char(4 * k + 1), c = char(4 * k + 2), d = char(4 * k + 3);
  return _mm256_setr_epi8(a, b, a, b, a, b, a, b, a, b, a, b, a, b, a, b,
                          c, d, c, d, c, d, c, d, c, d, c, d, c, d, c, d);
}

template <int NA>
PQ_AVX2_FN void dot_q6_K(int n, const void* vw, const void* va, size_t stride, float* out) {
  const block_q6_K* w = static_cast<const block_q6_K*>(vw);
  const float* tab = fp16_table();
  const block_q8_K* a[NA];
  __m256 acc[NA];
  for (int r = 0; r < NA; r++) {
    a[r] = act_row<block_q8_K>(va, stride, r);
    acc[r] = _mm256_setzero_ps();
  }
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  const __m256i m2 = _mm256_set1_epi8(0x03), m4 = _mm256_set1_epi8(0x0C);
  const __m256i m6 = _mm256_set1_epi8(0x30), m8 = _mm256_set1_epi8(int8_t(0xC0));
  for (int i = 0; i < n / QK_K; i++) {
    const int8_t* s8 = w[i].scales;
    const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s8)));
    // Scales 0..7 / 8..15 in both 128-bit lanes; one in-lane byte shuffle per group then
    // yields [scale s x8 | scale s+1 x8].
    const __m256i half_sc[2] = {_mm256_permute2x128_si256(sc16, sc16, 0x00),
                                _mm256_permute2x128_si256(sc16, sc16, 0x11)};
    __m256i sumi[NA];
    for (int r = 0; r < NA; r++) sumi[r] = _mm256_setzero_si256();
    for (int h = 0; h < 2; h++) {
      const __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[i].ql + 64 * h));
      const __m256i l2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[i].ql + 64 * h + 32));
      const __m256i hb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[i].qh + 32 * h));
      __m256i q[4];
      q[0] = _mm256_or_si256(_mm256_and_si256(l1, low4), _mm256_slli_epi16(_mm256_and_si256(hb, m2), 4));
      q[1] = _mm256_or_si256(_mm256_and_si256(l2, low4), _mm256_slli_epi16(_mm256_and_si256(hb, m4), 2));
      q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), low4), _mm256_and_si256(hb, m6));
      q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l2, 4), low4),
                             _mm256_srli_epi16(_mm256_and_si256(hb, m8), 2));
      for (int k = 0; k < 4; k++) {
        // bytes 0..15: scale 8h+2k, 16..31: scale 8h+2k+1
        const __m256i scale = _mm256_shuffle_epi8(half_sc[h], q6_scale_shuffle(k));
        for (int r = 0; r < NA; r++) {
          const __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[r][i].qs + 128 * h + 32 * k));
          sumi[r] = _mm256_add_epi32(sumi[r], dot_u8s8_scaled(q[k], y, scale));
        }
      }
    }
    const __m256 dw = bcast_f16(tab, w[i].d);
    for (int r = 0; r < NA; r++) {
      const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[r][i].bsums));
      const __m256i offset = _mm256_slli_epi32(_mm256_madd_epi16(sc16, bs), 5);  // 32 * sum sc*bsum
      const __m256i total = _mm256_sub_epi32(sumi[r], offset);
      acc[r] = _mm256_fmadd_ps(_mm256_mul_ps(bcast(&a[r][i].d), dw), _mm256_cvtepi32_ps(total), acc[r]);
    }
  }
  for (int r = 0; r < NA; r++) out[r] = hsum_f32x8(acc[r]);
}

// ---------------------------------------------------------------- F16 / F32 x F32
template <bool HALF>
PQ_AVX2_INLINE __m256 load_w8(const void* w, int i) {
  if constexpr (HALF) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(w) + i)));
  } else {
    return _mm256_loadu_ps(static_cast<const float*>(w) + i);
  }
}

template <int NA, bool HALF>
PQ_AVX2_FN void dot_float(int n, const void* vw, const void* va, size_t stride, float* out) {
  const float* a[NA];
  __m256 acc0[NA], acc1[NA];
  for (int r = 0; r < NA; r++) {
    a[r] = act_row<float>(va, stride, r);
    acc0[r] = _mm256_setzero_ps();
    acc1[r] = _mm256_setzero_ps();
  }
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 w0 = load_w8<HALF>(vw, i), w1 = load_w8<HALF>(vw, i + 8);
    for (int r = 0; r < NA; r++) {
      acc0[r] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(a[r] + i), acc0[r]);
      acc1[r] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(a[r] + i + 8), acc1[r]);
    }
  }
  for (int r = 0; r < NA; r++) {
    float s = hsum_f32x8(_mm256_add_ps(acc0[r], acc1[r]));
    for (int j = i; j < n; j++) {
      const float wj = HALF ? f16_to_f32(static_cast<const uint16_t*>(vw)[j]) : static_cast<const float*>(vw)[j];
      s += wj * a[r][j];
    }
    out[r] = s;
  }
}

template <int NA>
PQ_AVX2_FN void dot_f16(int n, const void* w, const void* a, size_t s, float* out) {
  dot_float<NA, true>(n, w, a, s, out);
}
template <int NA>
PQ_AVX2_FN void dot_f32(int n, const void* w, const void* a, size_t s, float* out) {
  dot_float<NA, false>(n, w, a, s, out);
}

}  // namespace

// ---- exported entry points: single row = NA 1; multi splits na into 4s then the remainder
#define PADDOCK_AVX2_ENTRY(name, kernel)                                                      \
  PQ_AVX2_FN float vec_dot_##name(int n, const void* w, const void* a) {                      \
    float out;                                                                                \
    kernel<1>(n, w, a, 0, &out);                                                              \
    return out;                                                                               \
  }                                                                                           \
  PQ_AVX2_FN void vec_dot_multi_##name(int n, const void* w, const void* a, size_t s, int na, \
                                       float* out) {                                          \
    const char* ap = static_cast<const char*>(a);                                             \
    for (; na >= 4; na -= 4, ap += 4 * s, out += 4) kernel<4>(n, w, ap, s, out);              \
    switch (na) {                                                                             \
      case 3: kernel<3>(n, w, ap, s, out); break;                                             \
      case 2: kernel<2>(n, w, ap, s, out); break;                                             \
      case 1: kernel<1>(n, w, ap, s, out); break;                                             \
      default: break;                                                                         \
    }                                                                                         \
  }

PADDOCK_AVX2_ENTRY(q4_0_q8_0, dot_q4_0)
PADDOCK_AVX2_ENTRY(q4_1_q8_1, dot_q4_1)
PADDOCK_AVX2_ENTRY(q8_0_q8_0, dot_q8_0)
PADDOCK_AVX2_ENTRY(q4_K_q8_K, dot_q4_K)
PADDOCK_AVX2_ENTRY(q5_K_q8_K, dot_q5_K)
PADDOCK_AVX2_ENTRY(q6_K_q8_K, dot_q6_K)
PADDOCK_AVX2_ENTRY(f16_f32, dot_f16)
PADDOCK_AVX2_ENTRY(f32_f32, dot_f32)
#undef PADDOCK_AVX2_ENTRY

}  // namespace paddock::quant::avx2

#endif  // PADDOCK_QUANT_X86
