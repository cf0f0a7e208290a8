// Baseline kernels and the run-time choice of table.
#include "backend/cpu/kernels.h"

#include "backend/cpu/cpu_features.h"
#include "backend/cpu/kernels_generic.h"
#include "backend/cpu/ops.h"
#include "core/dtype.h"

namespace paddock {

#if defined(PADDOCK_HAVE_AVX2_TU)
const CpuKernels& cpu_kernels_avx2_table();  // kernels_avx2.cpp
#endif
#if defined(PADDOCK_HAVE_AVX512_TU)
const CpuKernels& cpu_kernels_avx512_table();  // kernels_avx512.cpp
#endif

// 16 partial sums (lane j takes elements j, j+16, j+32, ...; an 8-element tail goes to lanes
// 0..7), folded as lane j + lane j+8 and then a balanced tree over the 8 lanes: the order the
// SIMD tables use (two ymm accumulators, or one zmm). 16 rather than more lanes lets the
// AVX-512 GEMM hold one register per output and so block 4 rows x 6 tokens.
#define PD_DOT_BODY(LOAD_W)                                                   \
  float acc[16] = {0};                                                        \
  int64_t i = 0;                                                              \
  for (; i + 16 <= n; i += 16)                                                \
    for (int j = 0; j < 16; j++) acc[j] += LOAD_W(i + j) * x[i + j];          \
  for (; i + 8 <= n; i += 8)                                                  \
    for (int j = 0; j < 8; j++) acc[j] += LOAD_W(i + j) * x[i + j];           \
  float lane[8];                                                              \
  for (int j = 0; j < 8; j++) lane[j] = acc[j] + acc[8 + j];                  \
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

static void bf16_to_f32_scalar(const uint16_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] = bf16_to_fp32(x[i]);
}

static void f32_to_f16_scalar(const float* x, uint16_t* y, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] = fp32_to_fp16(x[i]);
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

// dot_f16(k, q) is dot_f32(q, converted k): products commute exactly.
static void attn_scores_f16_scalar(const float* q, const uint16_t* k, int64_t stride, int64_t n, int64_t hd,
                                   float scale, float* scores) {
  for (int64_t p = 0; p < n; p++) scores[p] = dot_f16_scalar(k + p * stride, q, hd) * scale;
}

static void attn_values_f16_scalar(const float* w, const uint16_t* v, int64_t stride, int64_t n, int64_t hd,
                                   float* out) {
  for (int64_t i = 0; i < hd; i++) out[i] = 0.0f;
  for (int64_t p = 0; p < n; p++)
    for (int64_t i = 0; i < hd; i++) out[i] += w[p] * fp16_to_fp32(v[p * stride + i]);
}

const CpuKernels& cpu_kernels_scalar() {
  static const CpuKernels k = {"scalar",
                               dot_f32_scalar,
                               dot_f16_scalar,
                               dot_bf16_scalar,
                               f16_to_f32_scalar,
                               bf16_to_f32_scalar,
                               f32_to_f16_scalar,
                               gemm_by_dots<dot_f32_scalar>,
                               matvec_by_dots<dot_f16_scalar>,
                               matvec_by_dots<dot_bf16_scalar>,
                               axpy_scalar,
                               attn_scores_scalar,
                               attn_values_scalar,
                               attn_scores_f16_scalar,
                               attn_values_f16_scalar,
                               softmax};
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

const CpuKernels* cpu_kernels_avx512() {
#if defined(PADDOCK_HAVE_AVX512_TU)
  static const bool ok = cpu_features().avx512;
  return ok ? &cpu_kernels_avx512_table() : nullptr;
#else
  return nullptr;
#endif
}

const CpuKernels& cpu_kernels() {
  static const CpuKernels* chosen = [] {
    if (const CpuKernels* avx512 = cpu_kernels_avx512()) return avx512;
    const CpuKernels* avx2 = cpu_kernels_avx2();
    return avx2 ? avx2 : &cpu_kernels_scalar();
  }();
  return *chosen;
}

}  // namespace paddock
