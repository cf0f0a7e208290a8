// Inner loops of the CPU backend, one table per instruction set. The baseline ("scalar", plain
// C++ the compiler may auto-vectorise for the portable target) runs everywhere; the AVX2 table
// (kernels_avx2.cpp, built with -mavx2 -mfma -mf16c) is picked at run time when cpuid reports
// AVX2+FMA+F16C. PADDOCK_CPU_ISA=scalar in the environment forces the baseline.
//
// Both tables accumulate in the same lane layout (32 independent partial sums, then a fixed
// reduction tree), and dot_f16/dot_bf16 give exactly what converting the row to F32 and calling
// dot_f32 gives, so a weight row dotted directly or via a converted copy is bit-identical.
#pragma once

#include <cstdint>

namespace paddock {

struct CpuKernels {
  const char* isa;  // "scalar" or "avx2"
  float (*dot_f32)(const float* w, const float* x, int64_t n);
  float (*dot_f16)(const uint16_t* w, const float* x, int64_t n);
  float (*dot_bf16)(const uint16_t* w, const float* x, int64_t n);
  void (*f16_to_f32)(const uint16_t* x, float* y, int64_t n);
  void (*axpy)(float a, const float* x, float* y, int64_t n);  // y += a * x
  // Attention over n cached positions of one head (rows `stride` floats apart), with the
  // per-position dot/axpy inlined: scores[p] = dot(q, k_p) * scale; out = sum_p w[p] * v_p.
  void (*attn_scores)(const float* q, const float* k, int64_t stride, int64_t n, int64_t hd, float scale,
                      float* scores);
  void (*attn_values)(const float* w, const float* v, int64_t stride, int64_t n, int64_t hd, float* out);
  // In-place softmax (max subtracted). The AVX2 form uses a polynomial exp (~1 ulp), as
  // llama.cpp's does; the baseline calls libm's expf like llama2.c.
  void (*softmax)(float* x, int64_t n);
};

const CpuKernels& cpu_kernels();         // the best table for this CPU (chosen once)
const CpuKernels& cpu_kernels_scalar();  // the baseline table
const CpuKernels* cpu_kernels_avx2();    // nullptr when the CPU or the build lacks AVX2+FMA+F16C

}  // namespace paddock
