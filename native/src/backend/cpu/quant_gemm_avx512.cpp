// AVX-512 VNNI prefill GEMM for Q4_0, Q4_1 and Q8_0 weights: Y[t][r] = W[r] . act[t] for many
// tokens.
//
// A panel of 16 weight rows is repacked once per token chunk so that one zmm holds, for every
// row, 4 consecutive unsigned weight bytes (lane r = row r). One vpdpbusd against a broadcast of
// 4 activation bytes then advances all 16 rows' integer dots for one token, and the per-block
// float step (scale, convert, add) is done on 16 outputs at once instead of once per block and
// row. A tile is 16 rows x up to 8 tokens (8 int + 8 float accumulators).
//
// Every output gets exactly the scalar reference's arithmetic (exact int32 block dot, then
// sum = sum + (d_w * d_a) * float(isum) [then + m * s_a for Q4_1] block after block), the same
// bits as the gemv/vec_dot kernels in quant_gemv_avx512.cpp, independent of tiling, row split
// and batch size.
#include "quant_simd_avx512.h"

#if defined(PADDOCK_QUANT_X86)

#include "quant.h"

namespace paddock::quant::avx512 {

namespace {

constexpr int kPanelRows = 16;   // one zmm of int32 lanes
constexpr int kTileTokens = 8;   // tokens sharing each weight load

// One 32-element block of a 16-row panel: group g (elements 4g..4g+3) of row r at q[g][4r].
struct PanelBlock {
  uint8_t q[QK / 4][4 * kPanelRows];
  float dw[kPanelRows];
  float mw[kPanelRows];  // Q4_1's min
};
static_assert(sizeof(PanelBlock) == 640 && sizeof(PanelBlock) <= 720, "panel block: 10 lines, within the work size");

// Rows [p0, p0 + m) of W into the panel; rows m..15 are zero (their outputs are never stored).
template <QuantType T>
PQ_AVX512_INLINE void repack_panel(int nb, const uint8_t* W, size_t wrb, int p0, int m, PanelBlock* panel) {
  const float* tab = fp16_table();
  alignas(64) uint8_t stage[kPanelRows][32];  // one block of every row, unpacked
  for (int r = m; r < kPanelRows; r++) _mm256_store_si256(reinterpret_cast<__m256i*>(stage[r]), _mm256_setzero_si256());
  for (int b = 0; b < nb; b++) {
    for (int r = 0; r < kPanelRows; r++) {
      const uint8_t* blk = W + size_t(p0 + r) * wrb + b * Legacy<T>::kBytes;
      if (r < m) _mm256_store_si256(reinterpret_cast<__m256i*>(stage[r]), Legacy<T>::quants(blk));
      panel[b].dw[r] = r < m ? tab[load_u16(blk)] : 0.0f;
      if constexpr (Legacy<T>::kMin) panel[b].mw[r] = r < m ? tab[load_u16(blk + 2)] : 0.0f;
    }
    transpose_16x8(stage[0], 32, panel[b].q);
  }
}

template <QuantType T, int NT>
PQ_AVX512_FN void tile(int nb, const PanelBlock* panel, const uint8_t* act, size_t arb, const int32_t* corr,
                       const float* da, const float* sa, float* Y, size_t ldy, __mmask16 store_mask) {
  __m512 accf[NT];
  for (int t = 0; t < NT; t++) accf[t] = _mm512_setzero_ps();
  for (int b = 0; b < nb; b++) {
    const PanelBlock& pb = panel[b];
    __m512i acci[NT];
    const uint8_t* y[NT];
    for (int t = 0; t < NT; t++) {
      acci[t] = _mm512_set1_epi32(corr[size_t(t) * nb + b]);
      y[t] = reinterpret_cast<const uint8_t*>(act_qs<T>(act + size_t(t) * arb, b));
    }
    for (int g = 0; g < QK / 4; g++) {
      const __m512i wv = _mm512_load_si512(pb.q[g]);
      for (int t = 0; t < NT; t++) {
        int32_t y4;
        std::memcpy(&y4, y[t] + 4 * g, 4);
        acci[t] = _mm512_dpbusd_epi32(acci[t], wv, _mm512_set1_epi32(y4));
      }
    }
    const __m512 dwv = _mm512_load_ps(pb.dw);
    for (int t = 0; t < NT; t++) {
      const __m512 d = _mm512_mul_ps(dwv, _mm512_set1_ps(da[size_t(t) * nb + b]));
      accf[t] = _mm512_add_ps(accf[t], _mm512_mul_ps(d, _mm512_cvtepi32_ps(acci[t])));
      if constexpr (Legacy<T>::kMin)
        accf[t] = _mm512_add_ps(accf[t], _mm512_mul_ps(_mm512_load_ps(pb.mw), _mm512_set1_ps(sa[size_t(t) * nb + b])));
    }
  }
  for (int t = 0; t < NT; t++) _mm512_mask_storeu_ps(Y + size_t(t) * ldy, store_mask, accf[t]);
}

using TileFn = void (*)(int, const PanelBlock*, const uint8_t*, size_t, const int32_t*, const float*, const float*,
                        float*, size_t, __mmask16);
template <QuantType T>
constexpr TileFn kTiles[kTileTokens + 1] = {nullptr,     tile<T, 1>, tile<T, 2>, tile<T, 3>, tile<T, 4>,
                                            tile<T, 5>, tile<T, 6>, tile<T, 7>, tile<T, 8>};

template <QuantType T>
PQ_AVX512_FN void gemm(int n, const void* W, size_t wrb, int r0, int r1, const void* vact, size_t arb, int n_act,
                       float* Y, size_t ldy, void* work) {
  const int nb = n / QK;
  const uint8_t* act = static_cast<const uint8_t*>(vact);
  // work: panel (64-byte aligned by contract), then per-token corr and d_a, nb each.
  PanelBlock* panel = static_cast<PanelBlock*>(work);
  int32_t* corr = reinterpret_cast<int32_t*>(panel + nb);
  float* da = reinterpret_cast<float*>(corr + size_t(nb) * n_act);
  float* sa = da + size_t(nb) * n_act;
  for (int t = 0; t < n_act; t++) {
    const size_t o = size_t(t) * nb;
    act_terms<T>(nb, act + size_t(t) * arb, corr + o, da + o, sa + o);
  }
  const uint8_t* w = static_cast<const uint8_t*>(W);
  const int chunk = tokens_per_panel_repack(arb, kTileTokens);
  for (int c0 = 0; c0 < n_act; c0 += chunk) {
    const int c1 = c0 + chunk < n_act ? c0 + chunk : n_act;
    for (int p0 = r0; p0 < r1; p0 += kPanelRows) {
      const int m = r1 - p0 < kPanelRows ? r1 - p0 : kPanelRows;
      repack_panel<T>(nb, w, wrb, p0, m, panel);
      const __mmask16 mask = __mmask16((1u << m) - 1u);
      for (int t0 = c0; t0 < c1; t0 += kTileTokens) {
        const int nt = c1 - t0 < kTileTokens ? c1 - t0 : kTileTokens;
        const size_t o = size_t(t0) * nb;
        kTiles<T>[nt](nb, panel, act + size_t(t0) * arb, arb, corr + o, da + o, sa + o, Y + size_t(t0) * ldy + p0, ldy,
                      mask);
      }
    }
  }
}

}  // namespace

PQ_AVX512_FN void gemm_q4_0_q8_0(int n, const void* W, size_t wrb, int r0, int r1, const void* act, size_t arb,
                                 int n_act, float* Y, size_t ldy, void* work) {
  gemm<QuantType::Q4_0>(n, W, wrb, r0, r1, act, arb, n_act, Y, ldy, work);
}
PQ_AVX512_FN void gemm_q4_1_q8_1(int n, const void* W, size_t wrb, int r0, int r1, const void* act, size_t arb,
                                 int n_act, float* Y, size_t ldy, void* work) {
  gemm<QuantType::Q4_1>(n, W, wrb, r0, r1, act, arb, n_act, Y, ldy, work);
}
PQ_AVX512_FN void gemm_q8_0_q8_0(int n, const void* W, size_t wrb, int r0, int r1, const void* act, size_t arb,
                                 int n_act, float* Y, size_t ldy, void* work) {
  gemm<QuantType::Q8_0>(n, W, wrb, r0, r1, act, arb, n_act, Y, ldy, work);
}

}  // namespace paddock::quant::avx512

#endif  // PADDOCK_QUANT_X86
