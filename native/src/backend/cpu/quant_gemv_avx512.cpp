// AVX-512 VNNI decode kernels for Q4_0, Q4_1 and Q8_0 weights (activations Q8_0 / Q8_1):
// vec_dot, a many-row matvec over GGUF rows and one over the load-time 16-row panels of
// weight_repack.h. The arithmetic per output is exactly the scalar reference's:
// an exact int32 dot per block, then sum = sum + (d_w * d_a) * float(isum) (Q4_1: then
// sum = sum + m * s_a), block after block (the -ffp-contract build keeps mul and add apart).
// So every kernel here, the GEMM in quant_gemm_avx512.cpp and quant_dot_ref.cpp give the same
// bits, whatever the row split or batch.
#include "quant_simd_avx512.h"

#if defined(PADDOCK_QUANT_X86)

#include "quant.h"

namespace paddock::quant::avx512 {

namespace {

constexpr int kRowGroup = 8;
constexpr int kPanelRows = 16;  // weight_repack.h's kPackRows (this file sees only the SIMD headers)  // rows per pass over the activation (one ymm of results)
// Weights stream from L3/DRAM: every 64 bytes or less of each row (Q8_0: every block; Q4_0 /
// Q4_1: every 3) prefetch each row this far ahead; 8 interleaved row streams are more than the
// hardware prefetcher tracks well.
constexpr int kPrefetchBytes = 1536;

template <QuantType T>
PQ_AVX512_FN float dot_one(int n, const void* vw, const void* va) {
  const uint8_t* w = static_cast<const uint8_t*>(vw);
  const typename Legacy<T>::Act* a = static_cast<const typename Legacy<T>::Act*>(va);
  const float* tab = fp16_table();
  const __m256i off = _mm256_set1_epi8(char(Legacy<T>::kOffset));
  float sum = 0.0f;
  for (int b = 0; b < n / QK; b++) {
    const uint8_t* blk = w + b * Legacy<T>::kBytes;
    const __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[b].qs));
    const __m256i u = _mm256_dpbusd_epi32(_mm256_setzero_si256(), Legacy<T>::quants(blk), y);
    const int isum = hsum_epi32(_mm256_sub_epi32(u, _mm256_dpbusd_epi32(_mm256_setzero_si256(), off, y)));
    uint16_t dbits;
    std::memcpy(&dbits, blk, 2);
    sum += tab[dbits] * tab[a[b].d] * float(isum);
    if constexpr (Legacy<T>::kMin) sum += tab[load_u16(blk + 2)] * tab[a[b].s];
  }
  return sum;
}

// Eight rows from w (w_row_bytes apart): one pass over the activation, int dots of the 8 rows
// reduced into one vector per block, scales gathered, float sums kept 8 to a register.
template <QuantType T>
PQ_AVX512_FN void gemv8(int nb, const uint8_t* w, size_t wrb, const uint8_t* a, const int32_t* corr,
                        const float* da, const float* sa, float* y) {
  const __m256i idx = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(int(wrb)));
  __m256 acc = _mm256_setzero_ps();
  for (int b = 0; b < nb; b++) {
    const uint8_t* blk = w + b * Legacy<T>::kBytes;
    if (b % (64 / Legacy<T>::kBytes) == 0)
      for (int r = 0; r < kRowGroup; r++) _mm_prefetch(reinterpret_cast<const char*>(blk + r * wrb + kPrefetchBytes), _MM_HINT_T0);
    const __m256i yv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(act_qs<T>(a, b)));
    __m256i v[kRowGroup];
    for (int r = 0; r < kRowGroup; r++)
      v[r] = _mm256_dpbusd_epi32(_mm256_setzero_si256(), Legacy<T>::quants(blk + r * wrb), yv);
    const __m256i isum = _mm256_add_epi32(reduce8(v), _mm256_set1_epi32(corr[b]));
    // The 8 rows' fp16 scales: 32-bit gathers at the block starts, low halves converted
    // (Q4_1's min is the high half).
    const __m256i dbits = _mm256_i32gather_epi32(reinterpret_cast<const int*>(blk), idx, 1);
    const __m256 dw = _mm256_cvtph_ps(_mm256_cvtepi32_epi16(dbits));
    acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_mul_ps(dw, _mm256_set1_ps(da[b])), _mm256_cvtepi32_ps(isum)));
    if constexpr (Legacy<T>::kMin) {
      const __m256 mw = _mm256_cvtph_ps(_mm256_cvtepi32_epi16(_mm256_srli_epi32(dbits, 16)));
      acc = _mm256_add_ps(acc, _mm256_mul_ps(mw, _mm256_set1_ps(sa[b])));
    }
  }
  _mm256_storeu_ps(y, acc);
}

template <QuantType T>
PQ_AVX512_FN void gemv(int n, const void* W, size_t wrb, int r0, int r1, const void* act, float* y, void* work) {
  const int nb = n / QK;
  const uint8_t* a = static_cast<const uint8_t*>(act);
  int32_t* corr = static_cast<int32_t*>(work);
  float* da = reinterpret_cast<float*>(corr + nb);
  float* sa = da + nb;
  act_terms<T>(nb, a, corr, da, sa);
  const uint8_t* w = static_cast<const uint8_t*>(W);
  int r = r0;
  for (; r + kRowGroup <= r1; r += kRowGroup) gemv8<T>(nb, w + size_t(r) * wrb, wrb, a, corr, da, sa, y + r);
  for (; r < r1; r++) y[r] = dot_one<T>(n, w + size_t(r) * wrb, act);
}

// Packed panels (weight_repack.h): one zmm load per group of 4 elements of all 16 rows, one
// vpdpbusd per group against a broadcast of the activation's matching 4 bytes; lane r ends up
// with row r's exact block dot, so there is no horizontal sum.
template <QuantType T>
struct Panel;

template <>
struct Panel<QuantType::Q8_0> {
  static constexpr size_t kQuantBytes = 8 * 64;
  PQ_AVX512_INLINE_MEMBER static __m512i dot(__m512i acc, const uint8_t* q, const uint8_t* y) {
    for (int g = 0; g < 8; g++)
      acc = _mm512_dpbusd_epi32(acc, _mm512_loadu_si512(q + 64 * g), _mm512_set1_epi32(load_i32(y + 4 * g)));
    return acc;
  }
};

template <>
struct Panel<QuantType::Q4_0> {
  static constexpr size_t kQuantBytes = 4 * 64;
  PQ_AVX512_INLINE_MEMBER static __m512i dot(__m512i acc, const uint8_t* q, const uint8_t* y) {
    const __m512i lo4 = _mm512_set1_epi8(0x0F);
    for (int g = 0; g < 4; g++) {
      const __m512i v = _mm512_loadu_si512(q + 64 * g);
      acc = _mm512_dpbusd_epi32(acc, _mm512_and_si512(v, lo4), _mm512_set1_epi32(load_i32(y + 4 * g)));
      acc = _mm512_dpbusd_epi32(acc, _mm512_and_si512(_mm512_srli_epi16(v, 4), lo4),
                                _mm512_set1_epi32(load_i32(y + 16 + 4 * g)));
    }
    return acc;
  }
};

// Weights stream from DRAM once per token; the hardware prefetcher stops at each 4 KiB
// boundary, so each 64-byte line is also prefetched this far ahead.
constexpr int kPanelPrefetchBytes = 2048;

template <QuantType T>
PQ_AVX512_FN void gemv_packed(int n, const void* P, int p0, int p1, const void* act, float* y, void* work) {
  using Pn = Panel<T>;
  const int nb = n / QK;
  const uint8_t* a = static_cast<const uint8_t*>(act);
  int32_t* corr = static_cast<int32_t*>(work);
  float* da = reinterpret_cast<float*>(corr + nb);
  float* sa = da + nb;
  act_terms<T>(nb, a, corr, da, sa);
  const size_t panel_bytes = size_t(nb) * (Pn::kQuantBytes + 2 * kPanelRows);
  for (int p = p0; p < p1; p++) {
    const uint8_t* q = static_cast<const uint8_t*>(P) + size_t(p) * panel_bytes;
    const uint8_t* d = q + size_t(nb) * Pn::kQuantBytes;
    __m512 acc = _mm512_setzero_ps();
    for (int b = 0; b < nb; b++, q += Pn::kQuantBytes) {
      for (size_t l = 0; l < Pn::kQuantBytes; l += 64)
        _mm_prefetch(reinterpret_cast<const char*>(q + l + kPanelPrefetchBytes), _MM_HINT_T0);
      if (b % 2 == 0)  // the scales' own stream: 32 bytes per block, one line every 2 blocks
        _mm_prefetch(reinterpret_cast<const char*>(d + 2 * kPanelRows * b + kPanelPrefetchBytes / 8), _MM_HINT_T0);
      const __m512i isum = Pn::dot(_mm512_set1_epi32(corr[b]), q, reinterpret_cast<const uint8_t*>(act_qs<T>(a, b)));
      const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(d + 2 * kPanelRows * b)));
      acc = _mm512_add_ps(acc, _mm512_mul_ps(_mm512_mul_ps(dw, _mm512_set1_ps(da[b])), _mm512_cvtepi32_ps(isum)));
    }
    _mm512_storeu_ps(y + size_t(p) * kPanelRows, acc);
  }
}

// Panels [p0, p1) between the layouts: to_panels gathers group g of a block from the 16 rows
// into one zmm (load time); otherwise it scatters it back to the rows (for the GEMM, which
// reads rows). rows: row 0 is matrix row 16 p0.
template <QuantType T, bool to_panels>
PQ_AVX512_FN void move_panels(int n, uint8_t* P, int p0, int p1, uint8_t* rows) {
  using Pn = Panel<T>;
  constexpr size_t kBytes = Legacy<T>::kBytes;
  const int nb = n / QK;
  const size_t wrb = size_t(nb) * kBytes, panel_bytes = size_t(nb) * (Pn::kQuantBytes + 2 * kPanelRows);
  const __m512i row_at = _mm512_mullo_epi32(
      _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_epi32(int(wrb)));
  const __m512i flip = _mm512_set1_epi8(T == QuantType::Q8_0 ? char(0x80) : 0);
  for (int p = p0; p < p1; p++) {
    uint8_t* q = P + size_t(p) * panel_bytes;
    uint8_t* d = q + size_t(nb) * Pn::kQuantBytes;
    uint8_t* panel_rows = rows + size_t(p - p0) * kPanelRows * wrb;
    for (int b = 0; b < nb; b++, q += Pn::kQuantBytes) {
      uint8_t* blk = panel_rows + size_t(b) * kBytes;
      for (size_t g = 0; g < Pn::kQuantBytes / 64; g++) {
        if constexpr (to_panels) {
          _mm512_storeu_si512(q + 64 * g, _mm512_xor_si512(_mm512_i32gather_epi32(row_at, blk + 2 + 4 * g, 1), flip));
        } else {
          _mm512_i32scatter_epi32(blk + 2 + 4 * g, row_at, _mm512_xor_si512(_mm512_loadu_si512(q + 64 * g), flip), 1);
        }
      }
      for (int r = 0; r < kPanelRows; r++) {
        uint8_t* rd = d + 2 * (kPanelRows * b + r);
        if constexpr (to_panels) std::memcpy(rd, blk + size_t(r) * wrb, 2); else std::memcpy(blk + size_t(r) * wrb, rd, 2);
      }
    }
  }
}

template <QuantType T>
PQ_AVX512_FN void dot_multi(int n, const void* w, const void* a, size_t s, int na, float* out) {
  for (int i = 0; i < na; i++) out[i] = dot_one<T>(n, w, static_cast<const char*>(a) + i * s);
}

}  // namespace

PQ_AVX512_FN float vec_dot_q4_0_q8_0(int n, const void* w, const void* a) { return dot_one<QuantType::Q4_0>(n, w, a); }
PQ_AVX512_FN float vec_dot_q4_1_q8_1(int n, const void* w, const void* a) { return dot_one<QuantType::Q4_1>(n, w, a); }
PQ_AVX512_FN float vec_dot_q8_0_q8_0(int n, const void* w, const void* a) { return dot_one<QuantType::Q8_0>(n, w, a); }
PQ_AVX512_FN void vec_dot_multi_q4_0_q8_0(int n, const void* w, const void* a, size_t s, int na, float* out) {
  dot_multi<QuantType::Q4_0>(n, w, a, s, na, out);
}
PQ_AVX512_FN void vec_dot_multi_q4_1_q8_1(int n, const void* w, const void* a, size_t s, int na, float* out) {
  dot_multi<QuantType::Q4_1>(n, w, a, s, na, out);
}
PQ_AVX512_FN void vec_dot_multi_q8_0_q8_0(int n, const void* w, const void* a, size_t s, int na, float* out) {
  dot_multi<QuantType::Q8_0>(n, w, a, s, na, out);
}
PQ_AVX512_FN void gemv_q4_0_q8_0(int n, const void* W, size_t wrb, int r0, int r1, const void* act, float* y,
                                 void* work) {
  gemv<QuantType::Q4_0>(n, W, wrb, r0, r1, act, y, work);
}
PQ_AVX512_FN void gemv_q4_1_q8_1(int n, const void* W, size_t wrb, int r0, int r1, const void* act, float* y,
                                 void* work) {
  gemv<QuantType::Q4_1>(n, W, wrb, r0, r1, act, y, work);
}
PQ_AVX512_FN void gemv_q8_0_q8_0(int n, const void* W, size_t wrb, int r0, int r1, const void* act, float* y,
                                 void* work) {
  gemv<QuantType::Q8_0>(n, W, wrb, r0, r1, act, y, work);
}
PQ_AVX512_FN void gemv_packed_q4_0_q8_0(int n, const void* P, int p0, int p1, const void* act, float* y, void* work) {
  gemv_packed<QuantType::Q4_0>(n, P, p0, p1, act, y, work);
}
PQ_AVX512_FN void gemv_packed_q8_0_q8_0(int n, const void* P, int p0, int p1, const void* act, float* y, void* work) {
  gemv_packed<QuantType::Q8_0>(n, P, p0, p1, act, y, work);
}
PQ_AVX512_FN void unpack_panels_q4_0(int n, const void* P, int p0, int p1, void* dst) {
  move_panels<QuantType::Q4_0, false>(n, const_cast<uint8_t*>(static_cast<const uint8_t*>(P)), p0, p1,
                                      static_cast<uint8_t*>(dst));
}
PQ_AVX512_FN void unpack_panels_q8_0(int n, const void* P, int p0, int p1, void* dst) {
  move_panels<QuantType::Q8_0, false>(n, const_cast<uint8_t*>(static_cast<const uint8_t*>(P)), p0, p1,
                                      static_cast<uint8_t*>(dst));
}
PQ_AVX512_FN void repack_panels_q4_0(int n, const void* rows, int p0, int p1, void* P) {
  move_panels<QuantType::Q4_0, true>(n, static_cast<uint8_t*>(P), p0, p1,
                                     const_cast<uint8_t*>(static_cast<const uint8_t*>(rows)));
}
PQ_AVX512_FN void repack_panels_q8_0(int n, const void* rows, int p0, int p1, void* P) {
  move_panels<QuantType::Q8_0, true>(n, static_cast<uint8_t*>(P), p0, p1,
                                     const_cast<uint8_t*>(static_cast<const uint8_t*>(rows)));
}

}  // namespace paddock::quant::avx512

#endif  // PADDOCK_QUANT_X86
