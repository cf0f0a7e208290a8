// Quantized row kernels for the CPU backend: reference (scalar) quantize / dequantize for every
// GGUF block type Paddock reads or writes, and the fast integer dot products llama.cpp uses
// (activations quantized per block to 8 bits, then an integer dot per block, scaled in float).
//
// Pick kernels through quant_kernels(type): the table is chosen once per process from the CPU's
// features (AVX-512 VNNI, else AVX2+FMA+F16C, else scalar). PADDOCK_CPU_ISA=scalar|avx2 in the
// environment forces a level at or below what the CPU has (for debugging and A/B timing).
#pragma once

#include <cstddef>
#include <cstdint>

#include "quant_blocks.h"

namespace paddock::quant {

// Row functions return false (and write nothing) when n is not a multiple of the block size.
using to_float_fn = bool (*)(const void* x, float* y, int64_t n);
using from_float_fn = bool (*)(const float* x, void* y, int64_t n);
// Dot of one weight row with one activation row already in the weight's vec_dot_type.
// Unchecked hot path: n must be a multiple of the block size (quant_matvec checks).
using vec_dot_fn = float (*)(int n, const void* w, const void* a);
// One weight row against na <= kMaxBatch activation rows a + i*a_stride (bytes); each weight
// block is loaded and unpacked once for all na rows. out[i] is bit-identical to vec_dot.
using vec_dot_multi_fn = void (*)(int n, const void* w, const void* a, size_t a_stride, int na,
                                  float* out);

// Many weight rows at once (optional, nullptr = loop over vec_dot / vec_dot_multi):
//   gemv: y[r] = W[r] . act for r in [r0, r1), W rows w_row_bytes apart;
//   gemm: Y[t * ldy + r] = W[r] . act[t] for t < n_act, act rows a_row_bytes apart.
// Both give exactly vec_dot's bits for every output (they only reorder independent work).
// work: caller-owned scratch of quant_rows_work_bytes(n, n_act) bytes (n_act = 1 for gemv),
// 64-byte aligned (the SIMD files allocate nothing themselves).
using gemv_fn = void (*)(int n, const void* W, size_t w_row_bytes, int r0, int r1, const void* act, float* y,
                         void* work);
using gemm_fn = void (*)(int n, const void* W, size_t w_row_bytes, int r0, int r1, const void* act,
                         size_t a_row_bytes, int n_act, float* Y, size_t ldy, void* work);
size_t quant_rows_work_bytes(int n, int n_act);

constexpr int kMaxBatch = 4;

// AVX512 = AVX-512 F/BW/VL/DQ + VNNI (cpu_features().avx512_vnni).
enum class QuantIsa : int { Scalar = 0, AVX2 = 1, AVX512 = 2 };

struct QuantKernels {
  QuantType type;
  QuantType vec_dot_type;      // format from_float of that type must produce for vec_dot
  to_float_fn to_float;        // dequantize a row
  from_float_fn from_float;    // quantize a row into this type (activations, or ref weights)
  vec_dot_fn vec_dot;          // nullptr for activation-only types (Q8_1, Q8_K)
  vec_dot_multi_fn vec_dot_multi;
  gemv_fn gemv = nullptr;
  gemm_fn gemm = nullptr;
};

// Best kernels for this CPU; nullptr for a type this module does not implement.
const QuantKernels* quant_kernels(QuantType t);
// Kernels of one ISA level; nullptr when the CPU lacks it (lets tests and benches compare).
const QuantKernels* quant_kernels_isa(QuantType t, QuantIsa isa);
QuantIsa quant_best_isa();
bool quant_isa_available(QuantIsa isa);
const char* quant_isa_name(QuantIsa isa);

// ---- reference (scalar) row functions, also reachable through the Scalar table ----
bool dequantize_row_q4_0(const void* x, float* y, int64_t n);
bool dequantize_row_q4_1(const void* x, float* y, int64_t n);
bool dequantize_row_q8_0(const void* x, float* y, int64_t n);
bool dequantize_row_q8_1(const void* x, float* y, int64_t n);
bool dequantize_row_q4_K(const void* x, float* y, int64_t n);
bool dequantize_row_q5_K(const void* x, float* y, int64_t n);
bool dequantize_row_q6_K(const void* x, float* y, int64_t n);
bool dequantize_row_q8_K(const void* x, float* y, int64_t n);
bool dequantize_row_f16(const void* x, float* y, int64_t n);
bool dequantize_row_f32(const void* x, float* y, int64_t n);

// Deterministic quantizers for writing files. All of them follow ggml's reference quantizers
// (quantize_row_*_ref) rule for rule, and give the same bytes (checked against ggml: every byte
// of 2^19 Gaussian values per type, and the golden blocks in test_quant_golden.cpp). The
// K-quants search scales/mins by weighted least squares, see quant_kquants_ref.cpp.
bool quantize_row_q4_0_ref(const float* x, void* y, int64_t n);
bool quantize_row_q4_1_ref(const float* x, void* y, int64_t n);
bool quantize_row_q8_0_ref(const float* x, void* y, int64_t n);
bool quantize_row_q8_1_ref(const float* x, void* y, int64_t n);
bool quantize_row_q4_K_ref(const float* x, void* y, int64_t n);
bool quantize_row_q5_K_ref(const float* x, void* y, int64_t n);
bool quantize_row_q6_K_ref(const float* x, void* y, int64_t n);
bool quantize_row_q8_K_ref(const float* x, void* y, int64_t n);
bool quantize_row_f16_ref(const float* x, void* y, int64_t n);
bool quantize_row_f32_ref(const float* x, void* y, int64_t n);

}  // namespace paddock::quant
