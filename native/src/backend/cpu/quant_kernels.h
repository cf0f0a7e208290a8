// Per-ISA kernel entry points behind the dispatch table (quant_dispatch.cpp). Internal to the
// CPU backend; callers use quant_kernels(type) from quant.h. The avx2:: functions exist only on
// x86-64 builds and must only be called after quant_isa_available(QuantIsa::AVX2).
#pragma once

#include <cstddef>
#include <cstdint>

namespace paddock::quant {

const float* fp16_table();  // quant_fp16.h; declared here so SIMD files need no inline helpers

namespace ref {
// Dot products: weight row (first type) with activation row (second type).
float vec_dot_q4_0_q8_0(int n, const void* w, const void* a);
float vec_dot_q4_1_q8_1(int n, const void* w, const void* a);
float vec_dot_q8_0_q8_0(int n, const void* w, const void* a);
float vec_dot_q4_K_q8_K(int n, const void* w, const void* a);
float vec_dot_q5_K_q8_K(int n, const void* w, const void* a);
float vec_dot_q6_K_q8_K(int n, const void* w, const void* a);
float vec_dot_f16_f32(int n, const void* w, const void* a);
float vec_dot_f32_f32(int n, const void* w, const void* a);

// Reference "multi" forms: a loop over vec_dot.
void vec_dot_multi_q4_0_q8_0(int n, const void* w, const void* a, size_t s, int na, float* out);
void vec_dot_multi_q4_1_q8_1(int n, const void* w, const void* a, size_t s, int na, float* out);
void vec_dot_multi_q8_0_q8_0(int n, const void* w, const void* a, size_t s, int na, float* out);
void vec_dot_multi_q4_K_q8_K(int n, const void* w, const void* a, size_t s, int na, float* out);
void vec_dot_multi_q5_K_q8_K(int n, const void* w, const void* a, size_t s, int na, float* out);
void vec_dot_multi_q6_K_q8_K(int n, const void* w, const void* a, size_t s, int na, float* out);
void vec_dot_multi_f16_f32(int n, const void* w, const void* a, size_t s, int na, float* out);
void vec_dot_multi_f32_f32(int n, const void* w, const void* a, size_t s, int na, float* out);
}  // namespace ref

#if defined(__x86_64__) || defined(_M_X64)
#define PADDOCK_QUANT_X86 1
namespace avx2 {
float vec_dot_q4_0_q8_0(int n, const void* w, const void* a);
float vec_dot_q4_1_q8_1(int n, const void* w, const void* a);
float vec_dot_q8_0_q8_0(int n, const void* w, const void* a);
float vec_dot_q4_K_q8_K(int n, const void* w, const void* a);
float vec_dot_q5_K_q8_K(int n, const void* w, const void* a);
float vec_dot_q6_K_q8_K(int n, const void* w, const void* a);
float vec_dot_f16_f32(int n, const void* w, const void* a);
float vec_dot_f32_f32(int n, const void* w, const void* a);

void vec_dot_multi_q4_0_q8_0(int n, const void* w, const void* a, size_t s, int na, float* out);
void vec_dot_multi_q4_1_q8_1(int n, const void* w, const void* a, size_t s, int na, float* out);
void vec_dot_multi_q8_0_q8_0(int n, const void* w, const void* a, size_t s, int na, float* out);
void vec_dot_multi_q4_K_q8_K(int n, const void* w, const void* a, size_t s, int na, float* out);
void vec_dot_multi_q5_K_q8_K(int n, const void* w, const void* a, size_t s, int na, float* out);
void vec_dot_multi_q6_K_q8_K(int n, const void* w, const void* a, size_t s, int na, float* out);
void vec_dot_multi_f16_f32(int n, const void* w, const void* a, size_t s, int na, float* out);
void vec_dot_multi_f32_f32(int n, const void* w, const void* a, size_t s, int na, float* out);

// Activation quantizers: same bits as the ref:: ones (tested), just faster.
bool quantize_row_q8_0(const float* x, void* y, int64_t n);
bool quantize_row_q8_1(const float* x, void* y, int64_t n);
bool quantize_row_q8_K(const float* x, void* y, int64_t n);

// F16C row conversions.
void fp16_to_fp32_row(const uint16_t* x, float* y, int64_t n);
void fp32_to_fp16_row(const float* x, uint16_t* y, int64_t n);
}  // namespace avx2
#endif

}  // namespace paddock::quant
