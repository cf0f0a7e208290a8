// AVX-512 VNNI kernels for Q4_K, Q5_K and Q6_K weights (activations Q8_K): vec_dot and a
// prefill GEMM, both with the scalar reference's exact arithmetic per output: per super-block
// exact int32 sums (isum, and Q4_K/Q5_K's min sum msum), then the reference's float expression,
// super-block after super-block. So they agree bit for bit with quant_dot_ref.cpp, and prefill equals decode
// whatever the batch or row split.
//
// The GEMM repacks 16 weight rows into a panel (lane r = row r, 4 unsigned weight bytes per
// lane) so that one vpdpbusd against 4 broadcast activation bytes advances 16 rows' dots; the
// per-sub-block scales are then applied with one int32 multiply per 16 outputs.
#include "quant_simd_avx512.h"

#if defined(PADDOCK_QUANT_X86)

#include "quant.h"

namespace paddock::quant::avx512 {

namespace {

constexpr int kPanelRows = 16;
constexpr int kTileTokens = 6;   // int + float accumulators per token must fit 32 zmm registers
// Decode reads each weight row once, mostly from L3 or DRAM: prefetch this many super-blocks
// ahead (one row at a time is a single stream, too little for the hardware prefetcher alone).
constexpr int kPrefetchBlocks = 6;

PQ_AVX512_INLINE void prefetch_block(const void* p, size_t bytes) {
  for (size_t o = 0; o < bytes; o += 64) _mm_prefetch(static_cast<const char*>(p) + o, _MM_HINT_T0);
}

PQ_AVX512_INLINE int hsum128_epi32(__m128i s) {
  s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x1));
  return _mm_cvtsi128_si32(s);
}

// Q4_K/Q5_K 6-bit scales and mins: out[0..7] scales, out[8..15] mins (kq_scale_min's values).
PQ_AVX512_INLINE void unpack_scales(const uint8_t* q, uint8_t out[16]) {
  uint32_t w[3];
  std::memcpy(w, q, 12);
  const uint32_t r[4] = {w[0] & 0x3f3f3f3fu, (w[2] & 0x0f0f0f0fu) | (((w[0] >> 6) & 0x03030303u) << 4),
                         w[1] & 0x3f3f3f3fu, ((w[2] >> 4) & 0x0f0f0f0fu) | (((w[1] >> 6) & 0x03030303u) << 4)};
  std::memcpy(out, r, 16);
}

// The same 16 bytes built in a register (no store/reload: a narrow reload of several scalar
// stores cannot be store-forwarded and stalls the decode loop).
PQ_AVX512_INLINE __m128i unpack_scales_reg(const uint8_t* q) {
  uint32_t w[3];
  std::memcpy(w, q, 12);
  return _mm_setr_epi32(int(w[0] & 0x3f3f3f3fu), int((w[2] & 0x0f0f0f0fu) | (((w[0] >> 6) & 0x03030303u) << 4)),
                        int(w[1] & 0x3f3f3f3fu), int(((w[2] >> 4) & 0x0f0f0f0fu) | (((w[1] >> 6) & 0x03030303u) << 4)));
}

// The 256 6-bit values of a Q6_K block as unsigned bytes in element order, 32 per vector.
PQ_AVX512_INLINE void q6k_values(const block_q6_K& w, __m256i q[8]) {
  const __m256i low4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(0x03);
  for (int h = 0; h < 2; h++) {
    const __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.ql + 64 * h));
    const __m256i l2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.ql + 64 * h + 32));
    const __m256i hb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.qh + 32 * h));
    auto high = [&](int shift) { return _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, shift), m2), 4); };
    q[4 * h + 0] = _mm256_or_si256(_mm256_and_si256(l1, low4), high(0));
    q[4 * h + 1] = _mm256_or_si256(_mm256_and_si256(l2, low4), high(2));
    q[4 * h + 2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), low4), high(4));
    q[4 * h + 3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l2, 4), low4), high(6));
  }
}

// Q4_K (HIGH false) and Q5_K (HIGH true) share a layout up to Q5_K's qh[32] before qs: d, dmin,
// scales[12]. Chunk c (64 values) as unsigned bytes: lo = values 64c..64c+31, hi = the next 32.
template <bool HIGH>
struct Q45Layout {
  static constexpr size_t kBytes = HIGH ? sizeof(block_q5_K) : sizeof(block_q4_K);
  static constexpr size_t kQs = 4 + K_SCALE_SIZE + (HIGH ? QK_K / 8 : 0);
  PQ_AVX512_INLINE_MEMBER static void chunk(const uint8_t* blk, int c, __m256i* lo, __m256i* hi) {
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    const __m256i bits = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + kQs + 32 * c));
    *lo = _mm256_and_si256(bits, low4);
    *hi = _mm256_and_si256(_mm256_srli_epi16(bits, 4), low4);
    if constexpr (HIGH) {  // bit 2c of qh[l] is the fifth bit of lo[l], bit 2c+1 of hi[l]
      const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 4 + K_SCALE_SIZE));
      const __m256i one = _mm256_set1_epi8(1);
      *lo = _mm256_or_si256(*lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c), one), 4));
      *hi = _mm256_or_si256(*hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c + 1), one), 4));
    }
  }
};

// ---------------------------------------------------------------- decode
// One super-block of one Q4_K/Q5_K row against one activation block: 8 int32 lanes summing to
// isum, and 4 summing to msum (the reference's two exact integer sums).
template <bool HIGH>
PQ_AVX512_INLINE void q45_sums(const uint8_t* blk, const block_q8_K& a, __m128i bsum_pairs, __m256i* isum,
                               __m128i* msum) {
  const __m128i sm = unpack_scales_reg(blk + 4);
  // The 8 scales as int16 in both 128-bit lanes; a byte shuffle broadcasts scale j from there
  // (a store and 32-bit reloads instead cost the decode loop ~20%).
  const __m256i sc = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sm));
  __m256i part[4];  // four independent accumulators keep the vpdpwssd latency chain short
  for (int c = 0; c < 4; c++) {
    __m256i qlo, qhi;
    Q45Layout<HIGH>::chunk(blk, c, &qlo, &qhi);
    const __m256i* y = reinterpret_cast<const __m256i*>(a.qs + 64 * c);
    // maddubs pairs stay below 2*31*127; vpdpwssd then applies the 6-bit scale exactly
    const __m256i p_lo = _mm256_maddubs_epi16(qlo, _mm256_loadu_si256(y));
    const __m256i p_hi = _mm256_maddubs_epi16(qhi, _mm256_loadu_si256(y + 1));
    const __m256i s_lo = _mm256_shuffle_epi8(sc, _mm256_set1_epi16(short(0x0100 + 0x0404 * c)));
    const __m256i s_hi = _mm256_shuffle_epi8(sc, _mm256_set1_epi16(short(0x0302 + 0x0404 * c)));
    part[c] = _mm256_dpwssd_epi32(_mm256_madd_epi16(p_lo, s_lo), p_hi, s_hi);
  }
  *isum = _mm256_add_epi32(_mm256_add_epi32(part[0], part[1]), _mm256_add_epi32(part[2], part[3]));
  *msum = _mm_madd_epi16(_mm_cvtepu8_epi16(_mm_unpackhi_epi64(sm, sm)), bsum_pairs);
}

// bsums[2j] + bsums[2j+1] for j = 0..7 (int16; per-32 sums never saturate).
PQ_AVX512_INLINE __m128i bsum_pairs(const block_q8_K& a) {
  return _mm_hadd_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a.bsums)),
                        _mm_loadu_si128(reinterpret_cast<const __m128i*>(a.bsums + 8)));
}

// One super-block of one Q6_K row: 8 int32 lanes summing to the reference's isum.
PQ_AVX512_INLINE __m256i q6_sums(const block_q6_K& w, const block_q8_K& a) {
  __m256i q[8];
  q6k_values(w, q);
  const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w.scales)));
  // Scales 0..7 / 8..15 in both 128-bit lanes; one in-lane byte shuffle then gives each vector
  // k its [scale 2k x8 | scale 2k+1 x8] (no store and reload).
  const __m256i half_sc[2] = {_mm256_permute2x128_si256(sc16, sc16, 0x00), _mm256_permute2x128_si256(sc16, sc16, 0x11)};
  __m256i part[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()};
  for (int k = 0; k < 8; k++) {  // 32 values = two 16-value groups with scales 2k, 2k+1
    const __m256i p = _mm256_maddubs_epi16(q[k], _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.qs + 32 * k)));
    const char e = char(4 * (k & 3)), f = char(e + 1), g = char(e + 2), h = char(e + 3);
    const __m256i s = _mm256_shuffle_epi8(half_sc[k >> 2], _mm256_setr_epi8(e, f, e, f, e, f, e, f, e, f, e, f, e, f, e, f,
                                                                           g, h, g, h, g, h, g, h, g, h, g, h, g, h, g, h));
    part[k & 3] = _mm256_dpwssd_epi32(part[k & 3], p, s);
  }
  const __m256i acc = _mm256_add_epi32(_mm256_add_epi32(part[0], part[1]), _mm256_add_epi32(part[2], part[3]));
  // the -32 offset: 32 * sum_g sc_g * bsum_g
  const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.bsums));
  return _mm256_sub_epi32(acc, _mm256_slli_epi32(_mm256_madd_epi16(sc16, bs), 5));
}

template <bool HIGH>
PQ_AVX512_FN float dot_q45_K(int n, const void* vw, const void* va) {
  using L = Q45Layout<HIGH>;
  const uint8_t* w = static_cast<const uint8_t*>(vw);
  const block_q8_K* a = static_cast<const block_q8_K*>(va);
  const float* tab = fp16_table();
  float sum = 0.0f;
  for (int i = 0; i < n / QK_K; i++) {
    const uint8_t* blk = w + i * L::kBytes;
    prefetch_block(blk + kPrefetchBlocks * L::kBytes, L::kBytes);
    __m256i iv;
    __m128i mv;
    q45_sums<HIGH>(blk, a[i], bsum_pairs(a[i]), &iv, &mv);
    const int isum = hsum_epi32(iv), msum = hsum128_epi32(mv);
    const float d = a[i].d * tab[load_u16(blk)];
    const float dmin = a[i].d * tab[load_u16(blk + 2)];
    sum += d * float(isum) - dmin * float(msum);
  }
  return sum;
}

PQ_AVX512_FN float dot_q6_K(int n, const void* vw, const void* va) {
  const block_q6_K* w = static_cast<const block_q6_K*>(vw);
  const block_q8_K* a = static_cast<const block_q8_K*>(va);
  const float* tab = fp16_table();
  float sum = 0.0f;
  for (int i = 0; i < n / QK_K; i++) {
    prefetch_block(w + i + kPrefetchBlocks, sizeof(block_q6_K));
    const int isum = hsum_epi32(q6_sums(w[i], a[i]));
    sum += a[i].d * tab[w[i].d] * float(isum);
  }
  return sum;
}

// ---------------------------------------------------------------- GEMM (prefill)
// One super-block of one row, unpacked to 256 unsigned bytes in element order (GEMM staging).
using Stage = uint8_t[8][32];

PQ_AVX512_INLINE __m512i bcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

struct Q4KPanel {
  uint8_t q[64][64];   // group g of the super-block (elements 4g..4g+3), row r at 4r
  int32_t sc[8][16];   // sub-block scale j of row r
  int32_t mp[4][16];   // mins 2k | 2k+1 << 16 (int16 pairs for vpdpwssd)
  float dw[16], dmin[16];
};
static_assert(sizeof(Q4KPanel) % 64 == 0 && sizeof(Q4KPanel) <= 8 * 720, "Q4_K panel fits the work size");

struct Q6KPanel {
  uint8_t q[64][64];
  int32_t sc[16][16];  // 16-value group scale j of row r
  int32_t sp[8][16];   // scales 2k | 2k+1 << 16 (int16 pairs)
  float dw[16];
};
static_assert(sizeof(Q6KPanel) % 64 == 0 && sizeof(Q6KPanel) <= 8 * 720, "Q6_K panel fits the work size");

// Per token and super-block: mins' partner sums (bsums[4k..4k+1] + ... as int16 pairs) for Q4_K.
struct Q4KToken {
  int32_t bp[4];  // (b[4k]+b[4k+1]) | (b[4k+2]+b[4k+3]) << 16: sub-blocks 2k and 2k+1
};

PQ_AVX512_INLINE int32_t pair16(int lo, int hi) { return int32_t(uint32_t(uint16_t(lo)) | (uint32_t(uint16_t(hi)) << 16)); }

template <bool HIGH>
struct Q45K {
  using Panel = Q4KPanel;
  static constexpr size_t kBytes = Q45Layout<HIGH>::kBytes;
  using Token = Q4KToken;
  PQ_AVX512_INLINE_MEMBER static void repack(const uint8_t* blk, int r, Panel& p, Stage& st) {
    const float* tab = fp16_table();
    alignas(16) uint8_t sm[16];
    unpack_scales(blk + 4, sm);
    for (int c = 0; c < 4; c++) {
      __m256i lo, hi;
      Q45Layout<HIGH>::chunk(blk, c, &lo, &hi);
      _mm256_store_si256(reinterpret_cast<__m256i*>(st[2 * c]), lo);
      _mm256_store_si256(reinterpret_cast<__m256i*>(st[2 * c + 1]), hi);
    }
    for (int j = 0; j < 8; j++) p.sc[j][r] = sm[j];
    for (int k = 0; k < 4; k++) p.mp[k][r] = pair16(sm[8 + 2 * k], sm[9 + 2 * k]);
    p.dw[r] = tab[load_u16(blk)];
    p.dmin[r] = tab[load_u16(blk + 2)];
  }
  PQ_AVX512_INLINE_MEMBER static void token(const block_q8_K& a, Token& t) {
    for (int k = 0; k < 4; k++)
      t.bp[k] = pair16(a.bsums[4 * k] + a.bsums[4 * k + 1], a.bsums[4 * k + 2] + a.bsums[4 * k + 3]);
  }
  template <int NT>
  PQ_AVX512_INLINE_MEMBER static void step(const Panel& p, const block_q8_K* const* a, const Token* const* tk,
                                           __m512* accf) {
    __m512i isum[NT];
    for (int t = 0; t < NT; t++) isum[t] = _mm512_setzero_si512();
    for (int j = 0; j < 8; j++) {
      __m512i aj[NT];
      for (int t = 0; t < NT; t++) aj[t] = _mm512_setzero_si512();
      for (int g = 0; g < 8; g++) {
        const __m512i wv = _mm512_load_si512(p.q[8 * j + g]);
        for (int t = 0; t < NT; t++) aj[t] = _mm512_dpbusd_epi32(aj[t], wv, bcast4(a[t]->qs + 32 * j + 4 * g));
      }
      const __m512i sc = _mm512_load_si512(p.sc[j]);
      for (int t = 0; t < NT; t++) isum[t] = _mm512_add_epi32(isum[t], _mm512_mullo_epi32(aj[t], sc));
    }
    const __m512 dw = _mm512_load_ps(p.dw), dmin = _mm512_load_ps(p.dmin);
    for (int t = 0; t < NT; t++) {
      __m512i ms = _mm512_setzero_si512();
      for (int k = 0; k < 4; k++) ms = _mm512_dpwssd_epi32(ms, _mm512_load_si512(p.mp[k]), _mm512_set1_epi32(tk[t]->bp[k]));
      const __m512 da = _mm512_set1_ps(a[t]->d);
      const __m512 x = _mm512_mul_ps(_mm512_mul_ps(da, dw), _mm512_cvtepi32_ps(isum[t]));
      const __m512 m = _mm512_mul_ps(_mm512_mul_ps(da, dmin), _mm512_cvtepi32_ps(ms));
      accf[t] = _mm512_add_ps(accf[t], _mm512_sub_ps(x, m));
    }
  }
};

struct Q6K {
  using Panel = Q6KPanel;
  static constexpr size_t kBytes = sizeof(block_q6_K);
  struct Token {};
  PQ_AVX512_INLINE_MEMBER static void repack(const uint8_t* blk, int r, Panel& p, Stage& st) {
    const block_q6_K& w = *reinterpret_cast<const block_q6_K*>(blk);
    __m256i q[8];
    q6k_values(w, q);
    for (int k = 0; k < 8; k++) _mm256_store_si256(reinterpret_cast<__m256i*>(st[k]), q[k]);
    for (int j = 0; j < 16; j++) p.sc[j][r] = w.scales[j];
    for (int k = 0; k < 8; k++) p.sp[k][r] = pair16(w.scales[2 * k], w.scales[2 * k + 1]);
    p.dw[r] = fp16_table()[w.d];
  }
  PQ_AVX512_INLINE_MEMBER static void token(const block_q8_K&, Token&) {}
  template <int NT>
  PQ_AVX512_INLINE_MEMBER static void step(const Panel& p, const block_q8_K* const* a, const Token* const*,
                                           __m512* accf) {
    __m512i isum[NT];
    for (int t = 0; t < NT; t++) isum[t] = _mm512_setzero_si512();
    for (int j = 0; j < 16; j++) {
      __m512i aj[NT];
      for (int t = 0; t < NT; t++) aj[t] = _mm512_setzero_si512();
      for (int g = 0; g < 4; g++) {
        const __m512i wv = _mm512_load_si512(p.q[4 * j + g]);
        for (int t = 0; t < NT; t++) aj[t] = _mm512_dpbusd_epi32(aj[t], wv, bcast4(a[t]->qs + 16 * j + 4 * g));
      }
      const __m512i sc = _mm512_load_si512(p.sc[j]);
      for (int t = 0; t < NT; t++) isum[t] = _mm512_add_epi32(isum[t], _mm512_mullo_epi32(aj[t], sc));
    }
    const __m512 dw = _mm512_load_ps(p.dw);
    for (int t = 0; t < NT; t++) {
      __m512i cs = _mm512_setzero_si512();  // sum_g sc_g * bsum_g, for the -32 offset
      for (int k = 0; k < 8; k++) {
        int32_t b2;
        std::memcpy(&b2, a[t]->bsums + 2 * k, 4);
        cs = _mm512_dpwssd_epi32(cs, _mm512_load_si512(p.sp[k]), _mm512_set1_epi32(b2));
      }
      const __m512i total = _mm512_sub_epi32(isum[t], _mm512_slli_epi32(cs, 5));
      const __m512 d = _mm512_mul_ps(_mm512_set1_ps(a[t]->d), dw);
      accf[t] = _mm512_add_ps(accf[t], _mm512_mul_ps(d, _mm512_cvtepi32_ps(total)));
    }
  }
};

template <class K, int NT>
PQ_AVX512_FN void tile(int nsb, const typename K::Panel* panel, const uint8_t* act, size_t arb,
                       const typename K::Token* tok, float* Y, size_t ldy, __mmask16 mask) {
  __m512 accf[NT];
  for (int t = 0; t < NT; t++) accf[t] = _mm512_setzero_ps();
  for (int b = 0; b < nsb; b++) {
    const block_q8_K* a[NT];
    const typename K::Token* tk[NT];
    for (int t = 0; t < NT; t++) {
      a[t] = reinterpret_cast<const block_q8_K*>(act + size_t(t) * arb) + b;
      tk[t] = tok + size_t(t) * nsb + b;
    }
    K::template step<NT>(panel[b], a, tk, accf);
  }
  for (int t = 0; t < NT; t++) _mm512_mask_storeu_ps(Y + size_t(t) * ldy, mask, accf[t]);
}

template <class K>
PQ_AVX512_FN void gemm(int n, const void* W, size_t wrb, int r0, int r1, const void* vact, size_t arb, int n_act,
                       float* Y, size_t ldy, void* work) {
  using Tile = void (*)(int, const typename K::Panel*, const uint8_t*, size_t, const typename K::Token*, float*,
                        size_t, __mmask16);
  static constexpr Tile kTiles[kTileTokens + 1] = {nullptr,       tile<K, 1>, tile<K, 2>, tile<K, 3>,
                                                   tile<K, 4>, tile<K, 5>, tile<K, 6>};
  const int nsb = n / QK_K;
  const uint8_t* act = static_cast<const uint8_t*>(vact);
  typename K::Panel* panel = static_cast<typename K::Panel*>(work);
  typename K::Token* tok = reinterpret_cast<typename K::Token*>(panel + nsb);
  for (int t = 0; t < n_act; t++)
    for (int b = 0; b < nsb; b++)
      K::token(reinterpret_cast<const block_q8_K*>(act + size_t(t) * arb)[b], tok[size_t(t) * nsb + b]);
  const uint8_t* w = static_cast<const uint8_t*>(W);
  const int chunk = tokens_per_panel_repack(arb, kTileTokens);
  for (int c0 = 0; c0 < n_act; c0 += chunk) {
    const int c1 = c0 + chunk < n_act ? c0 + chunk : n_act;
    for (int p0 = r0; p0 < r1; p0 += kPanelRows) {
      const int m = r1 - p0 < kPanelRows ? r1 - p0 : kPanelRows;
      // Rows m..15 stay zero (their outputs are never stored).
      alignas(64) Stage stage[kPanelRows];
      if (m < kPanelRows) {
        std::memset(static_cast<void*>(panel), 0, sizeof(typename K::Panel) * nsb);
        std::memset(static_cast<void*>(stage), 0, sizeof(stage));
      }
      for (int b = 0; b < nsb; b++) {
        for (int r = 0; r < m; r++) K::repack(w + size_t(p0 + r) * wrb + b * K::kBytes, r, panel[b], stage[r]);
        for (int v = 0; v < 8; v++) transpose_16x8(stage[0][v], sizeof(Stage), panel[b].q + 8 * v);
      }
      const __mmask16 mask = __mmask16((1u << m) - 1u);
      for (int t0 = c0; t0 < c1; t0 += kTileTokens) {
        const int nt = c1 - t0 < kTileTokens ? c1 - t0 : kTileTokens;
        kTiles[nt](nsb, panel, act + size_t(t0) * arb, arb, tok + size_t(t0) * nsb, Y + size_t(t0) * ldy + p0, ldy,
                   mask);
      }
    }
  }
}

}  // namespace

PQ_AVX512_FN float vec_dot_q4_K_q8_K(int n, const void* w, const void* a) { return dot_q45_K<false>(n, w, a); }
PQ_AVX512_FN float vec_dot_q5_K_q8_K(int n, const void* w, const void* a) { return dot_q45_K<true>(n, w, a); }
PQ_AVX512_FN float vec_dot_q6_K_q8_K(int n, const void* w, const void* a) { return dot_q6_K(n, w, a); }
PQ_AVX512_FN void vec_dot_multi_q4_K_q8_K(int n, const void* w, const void* a, size_t s, int na, float* out) {
  for (int i = 0; i < na; i++) out[i] = dot_q45_K<false>(n, w, static_cast<const char*>(a) + i * s);
}
PQ_AVX512_FN void vec_dot_multi_q5_K_q8_K(int n, const void* w, const void* a, size_t s, int na, float* out) {
  for (int i = 0; i < na; i++) out[i] = dot_q45_K<true>(n, w, static_cast<const char*>(a) + i * s);
}
PQ_AVX512_FN void vec_dot_multi_q6_K_q8_K(int n, const void* w, const void* a, size_t s, int na, float* out) {
  for (int i = 0; i < na; i++) out[i] = dot_q6_K(n, w, static_cast<const char*>(a) + i * s);
}
PQ_AVX512_FN void gemm_q4_K_q8_K(int n, const void* W, size_t wrb, int r0, int r1, const void* act, size_t arb,
                                 int n_act, float* Y, size_t ldy, void* work) {
  gemm<Q45K<false>>(n, W, wrb, r0, r1, act, arb, n_act, Y, ldy, work);
}
PQ_AVX512_FN void gemm_q5_K_q8_K(int n, const void* W, size_t wrb, int r0, int r1, const void* act, size_t arb,
                                 int n_act, float* Y, size_t ldy, void* work) {
  gemm<Q45K<true>>(n, W, wrb, r0, r1, act, arb, n_act, Y, ldy, work);
}
PQ_AVX512_FN void gemm_q6_K_q8_K(int n, const void* W, size_t wrb, int r0, int r1, const void* act, size_t arb,
                                 int n_act, float* Y, size_t ldy, void* work) {
  gemm<Q6K>(n, W, wrb, r0, r1, act, arb, n_act, Y, ldy, work);
}

}  // namespace paddock::quant::avx512

#endif  // PADDOCK_QUANT_X86
