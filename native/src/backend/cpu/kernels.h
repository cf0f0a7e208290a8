// Inner loops of the CPU backend, one table per instruction set. The baseline ("scalar", plain
// C++ the compiler may auto-vectorise for the portable target) runs everywhere; the AVX2 table
// (kernels_avx2.cpp, built with -mavx2 -mfma -mf16c) is picked at run time when cpuid reports
// AVX2+FMA+F16C, the AVX-512 one (kernels_avx512.cpp) when it reports AVX-512.
// PADDOCK_CPU_ISA=scalar|avx2 in the environment lowers the choice.
//
// All tables accumulate in the same lane layout (16 independent partial sums, then a fixed
// reduction tree); the AVX2 and AVX-512 ones both use FMA, so they agree bit for bit. dot_f16 /
// dot_bf16 give exactly what converting the row to F32 and calling dot_f32 gives, and gemm_f32 /
// matvec_* give exactly dot_f32 / dot_f16 / dot_bf16 per output, so a prefill (GEMM) and a
// decode step (matvec) compute every output the same way.
#pragma once

#include <cstdint>

namespace paddock {

struct CpuKernels {
  const char* isa;  // "scalar", "avx2" or "avx512"
  float (*dot_f32)(const float* w, const float* x, int64_t n);
  float (*dot_f16)(const uint16_t* w, const float* x, int64_t n);
  float (*dot_bf16)(const uint16_t* w, const float* x, int64_t n);
  void (*f16_to_f32)(const uint16_t* x, float* y, int64_t n);
  void (*bf16_to_f32)(const uint16_t* x, float* y, int64_t n);
  void (*f32_to_f16)(const float* x, uint16_t* y, int64_t n);  // round to nearest even
  // y[t * ldy + r] = dot_f32(w + r * ldw, x + t * ldx, n) for r < R, t < C (prefill GEMM:
  // register-blocked where the ISA allows, each output still summed in dot_f32's order).
  void (*gemm_f32)(const float* w, int64_t ldw, int64_t R, const float* x, int64_t ldx, int64_t C, int64_t n,
                   float* y, int64_t ldy);
  // y[r] = dot_f16(w + r * n, x, n) (resp. dot_bf16) for r < R: decode matvec, rows in groups.
  void (*matvec_f16)(const uint16_t* w, int64_t R, const float* x, int64_t n, float* y);
  void (*matvec_bf16)(const uint16_t* w, int64_t R, const float* x, int64_t n, float* y);
  void (*axpy)(float a, const float* x, float* y, int64_t n);  // y += a * x
  // Attention over n cached positions of one head (rows `stride` floats apart), with the
  // per-position dot/axpy inlined: scores[p] = dot(q, k_p) * scale; out = sum_p w[p] * v_p.
  void (*attn_scores)(const float* q, const float* k, int64_t stride, int64_t n, int64_t hd, float scale,
                      float* scores);
  void (*attn_values)(const float* w, const float* v, int64_t stride, int64_t n, int64_t hd, float* out);
  // The same over an F16 cache; each cached element is converted exactly, then as above.
  void (*attn_scores_f16)(const float* q, const uint16_t* k, int64_t stride, int64_t n, int64_t hd, float scale,
                          float* scores);
  void (*attn_values_f16)(const float* w, const uint16_t* v, int64_t stride, int64_t n, int64_t hd, float* out);
  // In-place softmax (max subtracted). The AVX2 form uses a polynomial exp (~1 ulp), as
  // llama.cpp's does; the baseline calls libm's expf like llama2.c.
  void (*softmax)(float* x, int64_t n);
};

const CpuKernels& cpu_kernels();         // the best table for this CPU (chosen once)
const CpuKernels& cpu_kernels_scalar();  // the baseline table
const CpuKernels* cpu_kernels_avx2();    // nullptr when the CPU or the build lacks AVX2+FMA+F16C
const CpuKernels* cpu_kernels_avx512();  // nullptr when the CPU or the build lacks AVX-512

}  // namespace paddock
