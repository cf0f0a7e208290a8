// Reference quantize / dequantize for the 32-element formats (Q4_0, Q4_1, Q8_0, Q8_1), the K-quant
// activation format Q8_K, and plain F16 / F32 rows. The quantizers reproduce ggml's reference
// ones bit for bit (same rounding rules), so files Paddock writes match files llama.cpp writes.
#include <cmath>
#include <cstring>

#include "quant.h"
#include "quant_fp16.h"

namespace paddock::quant {

namespace {
// Round half to even, like ggml's nearest_int (valid for |x| < 2^22, far above our range).
inline int nearest_int(float x) { return int(std::nearbyint(x)); }
}  // namespace

// ---------------------------------------------------------------- Q4_0
bool quantize_row_q4_0_ref(const float* x, void* vy, int64_t n) {
  if (n % QK) return false;
  block_q4_0* y = static_cast<block_q4_0*>(vy);
  for (int64_t i = 0; i < n / QK; i++, x += QK) {
    // The element of largest magnitude maps exactly to -8, so its sign picks the direction
    // that uses the full asymmetric range [-8, 7].
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < QK; j++) {
      if (std::fabs(x[j]) > amax) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    const float d = max / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    for (int j = 0; j < QK / 2; j++) {
      // ggml truncates x*id + 8.5 (round half up) and clamps at 15
      int q0 = int(int8_t(x[j] * id + 8.5f));
      int q1 = int(int8_t(x[j + QK / 2] * id + 8.5f));
      q0 = q0 > 15 ? 15 : q0;
      q1 = q1 > 15 ? 15 : q1;
      y[i].qs[j] = uint8_t(q0 | (q1 << 4));
    }
  }
  return true;
}

bool dequantize_row_q4_0(const void* vx, float* y, int64_t n) {
  if (n % QK) return false;
  const block_q4_0* x = static_cast<const block_q4_0*>(vx);
  for (int64_t i = 0; i < n / QK; i++, y += QK) {
    const float d = fp16_to_fp32(x[i].d);
    for (int j = 0; j < QK / 2; j++) {
      y[j] = float((x[i].qs[j] & 0xF) - 8) * d;
      y[j + QK / 2] = float((x[i].qs[j] >> 4) - 8) * d;
    }
  }
  return true;
}

// ---------------------------------------------------------------- Q4_1
bool quantize_row_q4_1_ref(const float* x, void* vy, int64_t n) {
  if (n % QK) return false;
  block_q4_1* y = static_cast<block_q4_1*>(vy);
  for (int64_t i = 0; i < n / QK; i++, x += QK) {
    float lo = x[0], hi = x[0];
    for (int j = 1; j < QK; j++) {
      lo = x[j] < lo ? x[j] : lo;
      hi = x[j] > hi ? x[j] : hi;
    }
    const float d = (hi - lo) / 15.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    y[i].m = fp32_to_fp16(lo);
    for (int j = 0; j < QK / 2; j++) {
      int q0 = int(int8_t((x[j] - lo) * id + 0.5f));
      int q1 = int(int8_t((x[j + QK / 2] - lo) * id + 0.5f));
      q0 = q0 > 15 ? 15 : q0;
      q1 = q1 > 15 ? 15 : q1;
      y[i].qs[j] = uint8_t(q0 | (q1 << 4));
    }
  }
  return true;
}

bool dequantize_row_q4_1(const void* vx, float* y, int64_t n) {
  if (n % QK) return false;
  const block_q4_1* x = static_cast<const block_q4_1*>(vx);
  for (int64_t i = 0; i < n / QK; i++, y += QK) {
    const float d = fp16_to_fp32(x[i].d);
    const float m = fp16_to_fp32(x[i].m);
    for (int j = 0; j < QK / 2; j++) {
      y[j] = float(x[i].qs[j] & 0xF) * d + m;
      y[j + QK / 2] = float(x[i].qs[j] >> 4) * d + m;
    }
  }
  return true;
}

// ---------------------------------------------------------------- Q8_0 / Q8_1
// Shared by both: symmetric, d = amax/127, round half away from zero (roundf), so |q| <= 127.
// Never producing -128 matters: the AVX2 signed x signed trick relies on it.
namespace {
inline float quantize_block_q8(const float* x, int8_t* qs) {
  float amax = 0.0f;
  for (int j = 0; j < QK; j++) amax = std::fmax(amax, std::fabs(x[j]));
  const float d = amax / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  for (int j = 0; j < QK; j++) qs[j] = int8_t(std::roundf(x[j] * id));
  return d;
}
}  // namespace

bool quantize_row_q8_0_ref(const float* x, void* vy, int64_t n) {
  if (n % QK) return false;
  block_q8_0* y = static_cast<block_q8_0*>(vy);
  for (int64_t i = 0; i < n / QK; i++, x += QK) y[i].d = fp32_to_fp16(quantize_block_q8(x, y[i].qs));
  return true;
}

bool dequantize_row_q8_0(const void* vx, float* y, int64_t n) {
  if (n % QK) return false;
  const block_q8_0* x = static_cast<const block_q8_0*>(vx);
  for (int64_t i = 0; i < n / QK; i++, y += QK) {
    const float d = fp16_to_fp32(x[i].d);
    for (int j = 0; j < QK; j++) y[j] = float(x[i].qs[j]) * d;
  }
  return true;
}

bool quantize_row_q8_1_ref(const float* x, void* vy, int64_t n) {
  if (n % QK) return false;
  block_q8_1* y = static_cast<block_q8_1*>(vy);
  for (int64_t i = 0; i < n / QK; i++, x += QK) {
    const float d = quantize_block_q8(x, y[i].qs);
    int sum = 0;
    for (int j = 0; j < QK; j++) sum += y[i].qs[j];
    y[i].d = fp32_to_fp16(d);
    y[i].s = fp32_to_fp16(float(sum) * d);
  }
  return true;
}

bool dequantize_row_q8_1(const void* vx, float* y, int64_t n) {
  if (n % QK) return false;
  const block_q8_1* x = static_cast<const block_q8_1*>(vx);
  for (int64_t i = 0; i < n / QK; i++, y += QK) {
    const float d = fp16_to_fp32(x[i].d);
    for (int j = 0; j < QK; j++) y[j] = float(x[i].qs[j]) * d;
  }
  return true;
}

// ---------------------------------------------------------------- Q8_K
// ggml maps the largest-magnitude element to -127 (not -128: its IQ kernels need the
// symmetric range), rounds half to even and keeps d as a full float.
bool quantize_row_q8_K_ref(const float* x, void* vy, int64_t n) {
  if (n % QK_K) return false;
  block_q8_K* y = static_cast<block_q8_K*>(vy);
  for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < QK_K; j++) {
      if (std::fabs(x[j]) > amax) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    if (amax == 0.0f) {
      std::memset(&y[i], 0, sizeof(block_q8_K));
      continue;
    }
    const float iscale = -127.0f / max;
    for (int j = 0; j < QK_K; j++) {
      const int v = nearest_int(iscale * x[j]);
      y[i].qs[j] = int8_t(v > 127 ? 127 : v);
    }
    for (int g = 0; g < QK_K / 16; g++) {
      int sum = 0;
      for (int j = 0; j < 16; j++) sum += y[i].qs[16 * g + j];
      y[i].bsums[g] = int16_t(sum);
    }
    y[i].d = 1.0f / iscale;
  }
  return true;
}

bool dequantize_row_q8_K(const void* vx, float* y, int64_t n) {
  if (n % QK_K) return false;
  const block_q8_K* x = static_cast<const block_q8_K*>(vx);
  for (int64_t i = 0; i < n / QK_K; i++, y += QK_K)
    for (int j = 0; j < QK_K; j++) y[j] = x[i].d * float(x[i].qs[j]);
  return true;
}

// ---------------------------------------------------------------- F16 / F32
bool quantize_row_f16_ref(const float* x, void* y, int64_t n) {
  if (n < 0) return false;
  fp32_to_fp16_row(x, static_cast<f16_t*>(y), n);
  return true;
}

bool dequantize_row_f16(const void* x, float* y, int64_t n) {
  if (n < 0) return false;
  fp16_to_fp32_row(static_cast<const f16_t*>(x), y, n);
  return true;
}

bool quantize_row_f32_ref(const float* x, void* y, int64_t n) {
  if (n < 0) return false;
  std::memcpy(y, x, size_t(n) * sizeof(float));
  return true;
}

bool dequantize_row_f32(const void* x, float* y, int64_t n) {
  if (n < 0) return false;
  std::memcpy(y, x, size_t(n) * sizeof(float));
  return true;
}

}  // namespace paddock::quant
