// AVX-512 VNNI decode kernels for Q4_0, Q4_1 and Q8_0 weights (activations Q8_0 / Q8_1):
// vec_dot and a many-row matvec. The arithmetic per output is exactly the scalar reference's:
// an exact int32 dot per block, then sum = sum + (d_w * d_a) * float(isum) (Q4_1: then
// sum = sum + m * s_a), block after block (the -ffp-contract build keeps mul and add apart).
// So every kernel here, the GEMM in quant_gemm_avx512.cpp and quant_dot_ref.cpp give the same
// bits, whatever the row split or batch.
#include "quant_simd_avx512.h"

#if defined(PADDOCK_QUANT_X86)

#include "quant.h"

namespace paddock::quant::avx512 {

namespace {

constexpr int kRowGroup = 8;  // rows per pass over the activation (one ymm of results)
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

}  // namespace paddock::quant::avx512

#endif  // PADDOCK_QUANT_X86
