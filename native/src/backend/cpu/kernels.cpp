// Baseline kernels and the run-time choice of table.
#include "backend/cpu/kernels.h"

#include "backend/cpu/cpu_features.h"
#include "backend/cpu/ops.h"
#include "core/dtype.h"

namespace paddock {

#if defined(PADDOCK_HAVE_AVX2_TU)
const CpuKernels& cpu_kernels_avx2_table();  // kernels_avx2.cpp
#endif

// 32 partial sums in 4 groups of 8, reduced as ((g0+g1)+(g2+g3)) lane-wise and then as a
// balanced tree over the 8 lanes: the same order the AVX2 code uses with 4 ymm accumulators.
#define PD_DOT_BODY(LOAD_W)                                                   \
  float acc[32] = {0};                                                        \
  int64_t i = 0;                                                              \
  for (; i + 32 <= n; i += 32)                                                \
    for (int j = 0; j < 32; j++) acc[j] += LOAD_W(i + j) * x[i + j];          \
  for (; i + 8 <= n; i += 8)                                                  \
    for (int j = 0; j < 8; j++) acc[j] += LOAD_W(i + j) * x[i + j];           \
  float lane[8];                                                              \
  for (int j = 0; j < 8; j++) lane[j] = (acc[j] + acc[8 + j]) + (acc[16 + j] + acc[24 + j]); \
  float sum = ((lane[0] + lane[4]) + (lane[2] + lane[6])) + ((lane[1] + lane[5]) + (lane[3] + lane[7])); \
  for (; i < n; i++) sum += LOAD_W(i) * x[i];                                 \
  return sum;

static float dot_f32_scalar(const float* w, const float* x, int64_t n) {
#define LOAD_F32(k) w[k]
  PD_DOT_BODY(LOAD_F32)
#undef LOAD_F32
}

static float dot_f16_scalar(const uint16_t* w, const float* x, int64_t n) {
#define LOAD_F16(k) fp16_to_fp32(w[k])
  PD_DOT_BODY(LOAD_F16)
#undef LOAD_F16
}

static float dot_bf16_scalar(const uint16_t* w, const float* x, int64_t n) {
#define LOAD_BF16(k) bf16_to_fp32(w[k])
  PD_DOT_BODY(LOAD_BF16)
#undef LOAD_BF16
}

static void f16_to_f32_scalar(const uint16_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] = fp16_to_fp32(x[i]);
}

static void axpy_scalar(float a, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}

static void attn_scores_scalar(const float* q, const float* k, int64_t stride, int64_t n, int64_t hd, float scale,
                               float* scores) {
  for (int64_t p = 0; p < n; p++) scores[p] = dot_f32_scalar(q, k + p * stride, hd) * scale;
}

static void attn_values_scalar(const float* w, const float* v, int64_t stride, int64_t n, int64_t hd, float* out) {
  for (int64_t i = 0; i < hd; i++) out[i] = 0.0f;
  for (int64_t p = 0; p < n; p++) axpy_scalar(w[p], v + p * stride, out, hd);
}

const CpuKernels& cpu_kernels_scalar() {
  static const CpuKernels k = {"scalar", dot_f32_scalar, dot_f16_scalar, dot_bf16_scalar, f16_to_f32_scalar,
                               axpy_scalar, attn_scores_scalar, attn_values_scalar, softmax};
  return k;
}

const CpuKernels* cpu_kernels_avx2() {
#if defined(PADDOCK_HAVE_AVX2_TU)
  static const bool ok = cpu_features().avx2;
  return ok ? &cpu_kernels_avx2_table() : nullptr;
#else
  return nullptr;
#endif
}

const CpuKernels& cpu_kernels() {
  static const CpuKernels* chosen = [] {
    const CpuKernels* avx2 = cpu_kernels_avx2();
    return avx2 ? avx2 : &cpu_kernels_scalar();
  }();
  return *chosen;
}

}  // namespace paddock
