// Reference quantize / dequantize for the K-quants (Q4_K, Q5_K, Q6_K).
//
// The quantizers follow the recipe ggml's *_ref quantizers use (which is what real GGUF files
// are made with, absent an importance matrix):
//   Q4_K / Q5_K: each 32-value sub-block is fitted as x ~ scale*q - min (q in [0, nmax],
//     min >= 0) by trying a sweep of candidate step sizes and, for each, solving the weighted
//     least-squares problem for (scale, min); weights are |x| + rms(sub-block) so large values
//     count more. Scales and mins are then quantized to 6 bits against the block maxima and
//     the values re-quantized with the stored (rounded) scales.
//   Q6_K: each 16-value sub-block gets a symmetric scale from a sweep around nmax/max with
//     x^2 weights; the 16 scales are quantized to int8 against the largest.
// Same rules, candidate sweeps and float operation order as ggml's reference, so the bytes
// match what llama.cpp's quantizer writes (test_quant_golden.cpp holds blocks made by ggml).
// A compiler that fuses the multiply-adds below into FMAs (-ffp-contract with FMA enabled) can
// flip a rare near-tie; the round-trip error is unaffected (test_quant.cpp bounds RMSE).
#include <cmath>
#include <cstring>

#include "quant.h"
#include "quant_fp16.h"

namespace paddock::quant {

namespace {

inline int nearest_int(float x) { return int(std::nearbyint(x)); }
inline int clampi(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

// Fits x ~ scale*L - mn, L in [0, nmax], mn >= 0, minimizing sum w*(scale*L - mn - x)^2 over
// nstep+1 candidate step sizes (nmax + rmin + k*rdelta)/(max - min). Returns scale, sets *mn.
float fit_scale_min(int n, int nmax, const float* x, const float* w, uint8_t* L, float* mn,
                    float rmin, float rdelta, int nstep) {
  float lo = x[0], hi = x[0], sum_w = 0.0f, sum_x = 0.0f;
  for (int i = 0; i < n; i++) {
    lo = x[i] < lo ? x[i] : lo;
    hi = x[i] > hi ? x[i] : hi;
    sum_w += w[i];
    sum_x += w[i] * x[i];
  }
  if (lo > 0.0f) lo = 0.0f;  // the stored min is subtracted, so the offset can't be positive
  if (hi == lo) {
    for (int i = 0; i < n; i++) L[i] = 0;
    *mn = -lo;
    return 0.0f;
  }
  // Start from the plain min/max mapping.
  float iscale = float(nmax) / (hi - lo);
  float scale = 1.0f / iscale;
  float offset = lo;
  float best = 0.0f;
  for (int i = 0; i < n; i++) {
    const int l = clampi(nearest_int(iscale * (x[i] - lo)), 0, nmax);
    L[i] = uint8_t(l);
    const float e = scale * float(l) + lo - x[i];
    best += w[i] * e * e;
  }
  uint8_t cand[QK_K];
  for (int k = 0; k <= nstep; k++) {
    // Like ggml, each candidate grid is anchored at the best offset found so far (not at the
    // data minimum), which tracks its output closely and is slightly more accurate.
    if (hi - offset <= 0.0f) break;
    iscale = (rmin + rdelta * float(k) + float(nmax)) / (hi - offset);
    float sl = 0.0f, sl2 = 0.0f, sxl = 0.0f;
    for (int i = 0; i < n; i++) {
      const int l = clampi(nearest_int(iscale * (x[i] - offset)), 0, nmax);
      cand[i] = uint8_t(l);
      const float wl = w[i] * float(l);
      sl += wl;
      sl2 += wl * float(l);
      sxl += wl * x[i];
    }
    const float det = sum_w * sl2 - sl * sl;
    if (det <= 0.0f) continue;
    float s = (sum_w * sxl - sum_x * sl) / det;
    float b = (sl2 * sum_x - sl * sxl) / det;
    if (b > 0.0f) {  // optimum wants a positive offset: pin it at 0 and refit the scale alone
      b = 0.0f;
      s = sxl / sl2;
    }
    float err = 0.0f;
    for (int i = 0; i < n; i++) {
      const float e = s * float(cand[i]) + b - x[i];
      err += w[i] * e * e;
    }
    if (err < best) {
      std::memcpy(L, cand, size_t(n));
      best = err;
      scale = s;
      offset = b;
    }
  }
  *mn = -offset;
  return scale;
}

// Symmetric fit x ~ scale*(L - nmax), L - nmax in [-nmax, nmax-1], x^2-weighted. The value of
// largest magnitude lands on -nmax (the long side of the range); 19 step sizes around it are
// tried, keeping the one with the best weighted least-squares fit. Returns the (signed) scale.
float fit_scale_sym(int n, int nmax, const float* x, int8_t* L) {
  float amax = 0.0f, max = 0.0f;
  for (int i = 0; i < n; i++) {
    if (std::fabs(x[i]) > amax) {
      amax = std::fabs(x[i]);
      max = x[i];
    }
  }
  if (amax < 1e-15f) {
    for (int i = 0; i < n; i++) L[i] = 0;
    return 0.0f;
  }
  auto sums = [&](float iscale, float* slx, float* sl2) {
    *slx = 0.0f;
    *sl2 = 0.0f;
    for (int i = 0; i < n; i++) {
      const int l = clampi(nearest_int(iscale * x[i]), -nmax, nmax - 1);
      const float w = x[i] * x[i];
      *slx += w * x[i] * float(l);
      *sl2 += w * float(l) * float(l);
    }
  };
  auto assign = [&](float iscale) {
    for (int i = 0; i < n; i++) L[i] = int8_t(nmax + clampi(nearest_int(iscale * x[i]), -nmax, nmax - 1));
  };
  float iscale = -float(nmax) / max;
  float slx, sl2;
  sums(iscale, &slx, &sl2);
  assign(iscale);
  float scale = sl2 > 0.0f ? slx / sl2 : 0.0f;
  float best = scale * slx;  // = slx^2/sl2: the weighted energy the fit explains
  for (int k = -9; k <= 9; k++) {
    if (k == 0) continue;
    iscale = -(float(nmax) + 0.1f * float(k)) / max;
    sums(iscale, &slx, &sl2);
    if (sl2 > 0.0f && slx * slx > best * sl2) {
      assign(iscale);
      scale = slx / sl2;
      best = scale * slx;
    }
  }
  return scale;
}

// Q4_K and Q5_K share everything but nmax, the sweep, and how the bits are packed.
void quantize_superblock_4_5(const float* x, int nmax, float rmin, float rdelta, int nstep,
                             uint8_t* scales_out, f16_t* d_out, f16_t* dmin_out, uint8_t* L) {
  float scales[8], mins[8], w[32];
  float max_scale = 0.0f, max_min = 0.0f;
  for (int j = 0; j < 8; j++) {
    const float* xs = x + 32 * j;
    float sum_x2 = 0.0f;
    for (int l = 0; l < 32; l++) sum_x2 += xs[l] * xs[l];
    const float av = std::sqrt(sum_x2 / 32.0f);
    for (int l = 0; l < 32; l++) w[l] = av + std::fabs(xs[l]);
    scales[j] = fit_scale_min(32, nmax, xs, w, L + 32 * j, &mins[j], rmin, rdelta, nstep);
    max_scale = scales[j] > max_scale ? scales[j] : max_scale;
    max_min = mins[j] > max_min ? mins[j] : max_min;
  }
  const float inv_scale = max_scale > 0.0f ? 63.0f / max_scale : 0.0f;
  const float inv_min = max_min > 0.0f ? 63.0f / max_min : 0.0f;
  for (int j = 0; j < 8; j++) {
    const int ls = clampi(nearest_int(inv_scale * scales[j]), 0, 63);
    const int lm = clampi(nearest_int(inv_min * mins[j]), 0, 63);
    // inverse of kq_scale_min: sub-blocks 4..7 keep their top two bits in bytes 0..7
    if (j < 4) {
      scales_out[j] = uint8_t(ls);
      scales_out[j + 4] = uint8_t(lm);
    } else {
      scales_out[j + 4] = uint8_t((ls & 0xF) | ((lm & 0xF) << 4));
      scales_out[j - 4] |= uint8_t((ls >> 4) << 6);
      scales_out[j] |= uint8_t((lm >> 4) << 6);
    }
  }
  *d_out = fp32_to_fp16(max_scale / 63.0f);
  *dmin_out = fp32_to_fp16(max_min / 63.0f);
  // Re-quantize against the scales a reader will actually see (6-bit, fp16 super-scales).
  const float d = fp16_to_fp32(*d_out), dmin = fp16_to_fp32(*dmin_out);
  for (int j = 0; j < 8; j++) {
    uint8_t sc, m;
    kq_scale_min(j, scales_out, &sc, &m);
    const float dj = d * float(sc);
    if (dj == 0.0f) continue;
    const float mj = dmin * float(m);
    for (int l = 0; l < 32; l++) L[32 * j + l] = uint8_t(clampi(nearest_int((x[32 * j + l] + mj) / dj), 0, nmax));
  }
}

}  // namespace

// ---------------------------------------------------------------- Q4_K
bool quantize_row_q4_K_ref(const float* x, void* vy, int64_t n) {
  if (n % QK_K) return false;
  block_q4_K* y = static_cast<block_q4_K*>(vy);
  uint8_t L[QK_K];
  for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
    quantize_superblock_4_5(x, 15, -1.0f, 0.1f, 20, y[i].scales, &y[i].d, &y[i].dmin, L);
    for (int c = 0; c < 4; c++)
      for (int l = 0; l < 32; l++) y[i].qs[32 * c + l] = uint8_t(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
  }
  return true;
}

bool dequantize_row_q4_K(const void* vx, float* y, int64_t n) {
  if (n % QK_K) return false;
  const block_q4_K* x = static_cast<const block_q4_K*>(vx);
  for (int64_t i = 0; i < n / QK_K; i++) {
    const float d = fp16_to_fp32(x[i].d), dmin = fp16_to_fp32(x[i].dmin);
    const uint8_t* q = x[i].qs;
    for (int c = 0; c < 4; c++, q += 32) {
      uint8_t sc, m;
      kq_scale_min(2 * c, x[i].scales, &sc, &m);
      const float d1 = d * float(sc), m1 = dmin * float(m);
      kq_scale_min(2 * c + 1, x[i].scales, &sc, &m);
      const float d2 = d * float(sc), m2 = dmin * float(m);
      for (int l = 0; l < 32; l++) *y++ = d1 * float(q[l] & 0xF) - m1;
      for (int l = 0; l < 32; l++) *y++ = d2 * float(q[l] >> 4) - m2;
    }
  }
  return true;
}

// ---------------------------------------------------------------- Q5_K
bool quantize_row_q5_K_ref(const float* x, void* vy, int64_t n) {
  if (n % QK_K) return false;
  block_q5_K* y = static_cast<block_q5_K*>(vy);
  uint8_t L[QK_K];
  for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
    quantize_superblock_4_5(x, 31, -0.5f, 0.1f, 15, y[i].scales, &y[i].d, &y[i].dmin, L);
    std::memset(y[i].qh, 0, sizeof(y[i].qh));
    for (int c = 0; c < 4; c++) {
      for (int l = 0; l < 32; l++) {
        const int lo = L[64 * c + l], hi = L[64 * c + 32 + l];
        y[i].qs[32 * c + l] = uint8_t((lo & 0xF) | ((hi & 0xF) << 4));
        y[i].qh[l] |= uint8_t(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
      }
    }
  }
  return true;
}

bool dequantize_row_q5_K(const void* vx, float* y, int64_t n) {
  if (n % QK_K) return false;
  const block_q5_K* x = static_cast<const block_q5_K*>(vx);
  for (int64_t i = 0; i < n / QK_K; i++) {
    const float d = fp16_to_fp32(x[i].d), dmin = fp16_to_fp32(x[i].dmin);
    const uint8_t* ql = x[i].qs;
    const uint8_t* qh = x[i].qh;
    for (int c = 0; c < 4; c++, ql += 32) {
      uint8_t sc, m;
      kq_scale_min(2 * c, x[i].scales, &sc, &m);
      const float d1 = d * float(sc), m1 = dmin * float(m);
      kq_scale_min(2 * c + 1, x[i].scales, &sc, &m);
      const float d2 = d * float(sc), m2 = dmin * float(m);
      for (int l = 0; l < 32; l++) *y++ = d1 * float((ql[l] & 0xF) | (((qh[l] >> (2 * c)) & 1) << 4)) - m1;
      for (int l = 0; l < 32; l++) *y++ = d2 * float((ql[l] >> 4) | (((qh[l] >> (2 * c + 1)) & 1) << 4)) - m2;
    }
  }
  return true;
}

// ---------------------------------------------------------------- Q6_K
bool quantize_row_q6_K_ref(const float* x, void* vy, int64_t n) {
  if (n % QK_K) return false;
  block_q6_K* y = static_cast<block_q6_K*>(vy);
  int8_t L[QK_K];
  float scales[QK_K / 16];
  for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
    float max_scale = 0.0f, max_abs = 0.0f;
    for (int s = 0; s < QK_K / 16; s++) {
      scales[s] = fit_scale_sym(16, 32, x + 16 * s, L + 16 * s);
      if (std::fabs(scales[s]) > max_abs) {
        max_abs = std::fabs(scales[s]);
        max_scale = scales[s];
      }
    }
    std::memset(&y[i], 0, sizeof(block_q6_K));
    if (max_abs < 1e-15f) continue;  // all zero: d = 0
    // The scale of largest magnitude maps to -128, the long side of int8.
    const float iscale = -128.0f / max_scale;
    y[i].d = fp32_to_fp16(1.0f / iscale);
    for (int s = 0; s < QK_K / 16; s++) {
      const int v = nearest_int(iscale * scales[s]);
      y[i].scales[s] = int8_t(v > 127 ? 127 : v);
    }
    const float d = fp16_to_fp32(y[i].d);
    for (int s = 0; s < QK_K / 16; s++) {
      const float ds = d * float(y[i].scales[s]);
      if (ds == 0.0f) continue;
      for (int l = 0; l < 16; l++) L[16 * s + l] = int8_t(32 + clampi(nearest_int(x[16 * s + l] / ds), -32, 31));
    }
    for (int h = 0; h < 2; h++) {
      const int8_t* Lh = L + 128 * h;
      uint8_t* ql = y[i].ql + 64 * h;
      uint8_t* qh = y[i].qh + 32 * h;
      for (int l = 0; l < 32; l++) {
        const int q1 = Lh[l], q2 = Lh[l + 32], q3 = Lh[l + 64], q4 = Lh[l + 96];
        ql[l] = uint8_t((q1 & 0xF) | ((q3 & 0xF) << 4));
        ql[l + 32] = uint8_t((q2 & 0xF) | ((q4 & 0xF) << 4));
        qh[l] = uint8_t((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
      }
    }
  }
  return true;
}

bool dequantize_row_q6_K(const void* vx, float* y, int64_t n) {
  if (n % QK_K) return false;
  const block_q6_K* x = static_cast<const block_q6_K*>(vx);
  for (int64_t i = 0; i < n / QK_K; i++) {
    const float d = fp16_to_fp32(x[i].d);
    for (int h = 0; h < 2; h++, y += 128) {
      const uint8_t* ql = x[i].ql + 64 * h;
      const uint8_t* qh = x[i].qh + 32 * h;
      const int8_t* sc = x[i].scales + 8 * h;
      for (int l = 0; l < 32; l++) {
        const int s = l / 16;
        const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l] = d * float(sc[s]) * float(q1);
        y[l + 32] = d * float(sc[s + 2]) * float(q2);
        y[l + 64] = d * float(sc[s + 4]) * float(q3);
        y[l + 96] = d * float(sc[s + 6]) * float(q4);
      }
    }
  }
  return true;
}

}  // namespace paddock::quant
