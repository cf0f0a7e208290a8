// Run-time kernel selection. The build never assumes the build machine's CPU: the SIMD kernels
// are compiled with per-function target attributes and only reached through these tables,
// after cpuid (and the OS's saved-register mask, XCR0) says the instructions are usable.
#include "backend/cpu/cpu_features.h"
#include "quant.h"
#include "quant_avx512.h"
#include "quant_kernels.h"

namespace paddock::quant {

namespace {

QuantIsa detect_best() {
  if (cpu_features().avx512_vnni) return QuantIsa::AVX512;
  return cpu_features().avx2 ? QuantIsa::AVX2 : QuantIsa::Scalar;
}

using QT = QuantType;

const QuantKernels kScalar[] = {
    {QT::F32, QT::F32, dequantize_row_f32, quantize_row_f32_ref, ref::vec_dot_f32_f32, ref::vec_dot_multi_f32_f32},
    {QT::F16, QT::F32, dequantize_row_f16, quantize_row_f16_ref, ref::vec_dot_f16_f32, ref::vec_dot_multi_f16_f32},
    {QT::Q4_0, QT::Q8_0, dequantize_row_q4_0, quantize_row_q4_0_ref, ref::vec_dot_q4_0_q8_0, ref::vec_dot_multi_q4_0_q8_0},
    {QT::Q4_1, QT::Q8_1, dequantize_row_q4_1, quantize_row_q4_1_ref, ref::vec_dot_q4_1_q8_1, ref::vec_dot_multi_q4_1_q8_1},
    {QT::Q8_0, QT::Q8_0, dequantize_row_q8_0, quantize_row_q8_0_ref, ref::vec_dot_q8_0_q8_0, ref::vec_dot_multi_q8_0_q8_0},
    {QT::Q8_1, QT::Q8_1, dequantize_row_q8_1, quantize_row_q8_1_ref, nullptr, nullptr},
    {QT::Q4_K, QT::Q8_K, dequantize_row_q4_K, quantize_row_q4_K_ref, ref::vec_dot_q4_K_q8_K, ref::vec_dot_multi_q4_K_q8_K},
    {QT::Q5_K, QT::Q8_K, dequantize_row_q5_K, quantize_row_q5_K_ref, ref::vec_dot_q5_K_q8_K, ref::vec_dot_multi_q5_K_q8_K},
    {QT::Q6_K, QT::Q8_K, dequantize_row_q6_K, quantize_row_q6_K_ref, ref::vec_dot_q6_K_q8_K, ref::vec_dot_multi_q6_K_q8_K},
    {QT::Q8_K, QT::Q8_K, dequantize_row_q8_K, quantize_row_q8_K_ref, nullptr, nullptr},
};

#if defined(PADDOCK_QUANT_X86)
// Weight quantizers stay the reference ones (file writing is not hot); the activation
// quantizers and every dot product are SIMD.
const QuantKernels kAvx2[] = {
    {QT::F32, QT::F32, dequantize_row_f32, quantize_row_f32_ref, avx2::vec_dot_f32_f32, avx2::vec_dot_multi_f32_f32},
    {QT::F16, QT::F32, dequantize_row_f16, quantize_row_f16_ref, avx2::vec_dot_f16_f32, avx2::vec_dot_multi_f16_f32},
    {QT::Q4_0, QT::Q8_0, dequantize_row_q4_0, quantize_row_q4_0_ref, avx2::vec_dot_q4_0_q8_0, avx2::vec_dot_multi_q4_0_q8_0},
    {QT::Q4_1, QT::Q8_1, dequantize_row_q4_1, quantize_row_q4_1_ref, avx2::vec_dot_q4_1_q8_1, avx2::vec_dot_multi_q4_1_q8_1},
    {QT::Q8_0, QT::Q8_0, dequantize_row_q8_0, avx2::quantize_row_q8_0, avx2::vec_dot_q8_0_q8_0, avx2::vec_dot_multi_q8_0_q8_0},
    {QT::Q8_1, QT::Q8_1, dequantize_row_q8_1, avx2::quantize_row_q8_1, nullptr, nullptr},
    {QT::Q4_K, QT::Q8_K, dequantize_row_q4_K, quantize_row_q4_K_ref, avx2::vec_dot_q4_K_q8_K, avx2::vec_dot_multi_q4_K_q8_K},
    {QT::Q5_K, QT::Q8_K, dequantize_row_q5_K, quantize_row_q5_K_ref, avx2::vec_dot_q5_K_q8_K, avx2::vec_dot_multi_q5_K_q8_K},
    {QT::Q6_K, QT::Q8_K, dequantize_row_q6_K, quantize_row_q6_K_ref, avx2::vec_dot_q6_K_q8_K, avx2::vec_dot_multi_q6_K_q8_K},
    {QT::Q8_K, QT::Q8_K, dequantize_row_q8_K, avx2::quantize_row_q8_K, nullptr, nullptr},
};

#if defined(PADDOCK_HAVE_AVX512_TU)
// AVX-512 VNNI: all six weight types get their own dots and GEMM (the legacy ones also a
// many-row matvec), all bit-identical to the scalar reference; F16/F32 keep AVX2.
const QuantKernels kAvx512[] = {
    {QT::Q4_0, QT::Q8_0, dequantize_row_q4_0, quantize_row_q4_0_ref, avx512::vec_dot_q4_0_q8_0,
     avx512::vec_dot_multi_q4_0_q8_0, avx512::gemv_q4_0_q8_0, avx512::gemm_q4_0_q8_0},
    {QT::Q4_1, QT::Q8_1, dequantize_row_q4_1, quantize_row_q4_1_ref, avx512::vec_dot_q4_1_q8_1,
     avx512::vec_dot_multi_q4_1_q8_1, avx512::gemv_q4_1_q8_1, avx512::gemm_q4_1_q8_1},
    {QT::Q8_0, QT::Q8_0, dequantize_row_q8_0, avx2::quantize_row_q8_0, avx512::vec_dot_q8_0_q8_0,
     avx512::vec_dot_multi_q8_0_q8_0, avx512::gemv_q8_0_q8_0, avx512::gemm_q8_0_q8_0},
    {QT::Q4_K, QT::Q8_K, dequantize_row_q4_K, quantize_row_q4_K_ref, avx512::vec_dot_q4_K_q8_K,
     avx512::vec_dot_multi_q4_K_q8_K, nullptr, avx512::gemm_q4_K_q8_K},
    {QT::Q5_K, QT::Q8_K, dequantize_row_q5_K, quantize_row_q5_K_ref, avx512::vec_dot_q5_K_q8_K,
     avx512::vec_dot_multi_q5_K_q8_K, nullptr, avx512::gemm_q5_K_q8_K},
    {QT::Q6_K, QT::Q8_K, dequantize_row_q6_K, quantize_row_q6_K_ref, avx512::vec_dot_q6_K_q8_K,
     avx512::vec_dot_multi_q6_K_q8_K, nullptr, avx512::gemm_q6_K_q8_K},
};
#endif
#endif

const QuantKernels* find(const QuantKernels* table, size_t count, QuantType t) {
  for (size_t i = 0; i < count; i++)
    if (table[i].type == t) return &table[i];
  return nullptr;
}

}  // namespace

bool quant_isa_available(QuantIsa isa) {
  switch (isa) {
    case QuantIsa::Scalar: return true;
    case QuantIsa::AVX2: return cpu_features().avx2;
    case QuantIsa::AVX512: return cpu_features().avx512_vnni;
  }
  return false;
}

QuantIsa quant_best_isa() {
  static const QuantIsa best = detect_best();  // thread-safe one-time init (C++11 statics)
  return best;
}

const char* quant_isa_name(QuantIsa isa) {
  switch (isa) {
    case QuantIsa::Scalar: return "scalar";
    case QuantIsa::AVX2: return "avx2";
    case QuantIsa::AVX512: return "avx512";
  }
  return "?";
}

const QuantKernels* quant_kernels_isa(QuantType t, QuantIsa isa) {
  if (!quant_isa_available(isa)) return nullptr;
#if defined(PADDOCK_HAVE_AVX512_TU) && defined(PADDOCK_QUANT_X86)
  if (isa == QuantIsa::AVX512) {
    if (const QuantKernels* k = find(kAvx512, sizeof(kAvx512) / sizeof(kAvx512[0]), t)) return k;
    isa = QuantIsa::AVX2;
  }
#endif
#if defined(PADDOCK_QUANT_X86)
  if (isa == QuantIsa::AVX2 || isa == QuantIsa::AVX512) return find(kAvx2, sizeof(kAvx2) / sizeof(kAvx2[0]), t);
#endif
  return find(kScalar, sizeof(kScalar) / sizeof(kScalar[0]), t);
}

const QuantKernels* quant_kernels(QuantType t) { return quant_kernels_isa(t, quant_best_isa()); }

}  // namespace paddock::quant
