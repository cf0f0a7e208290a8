// AVX-512 VNNI kernel entry points (quant_gemv_avx512.cpp, quant_gemm_avx512.cpp). Internal to
// the CPU backend: reached only through the dispatch table after
// quant_isa_available(QuantIsa::AVX512). Each output has the scalar reference's exact bits.
#pragma once

#include "quant_kernels.h"

#if defined(PADDOCK_QUANT_X86)

#if defined(__GNUC__) || defined(__clang__)
#define PQ_AVX512_TARGET "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni"
#define PQ_AVX512_FN __attribute__((target(PQ_AVX512_TARGET)))
#define PQ_AVX512_INLINE static inline __attribute__((always_inline, target(PQ_AVX512_TARGET)))
#define PQ_AVX512_INLINE_MEMBER inline __attribute__((always_inline, target(PQ_AVX512_TARGET)))
#else
#define PQ_AVX512_FN
#define PQ_AVX512_INLINE static __forceinline
#define PQ_AVX512_INLINE_MEMBER __forceinline
#endif

namespace paddock::quant::avx512 {
float vec_dot_q4_0_q8_0(int n, const void* w, const void* a);
float vec_dot_q4_1_q8_1(int n, const void* w, const void* a);
float vec_dot_q8_0_q8_0(int n, const void* w, const void* a);
void vec_dot_multi_q4_0_q8_0(int n, const void* w, const void* a, size_t s, int na, float* out);
void vec_dot_multi_q4_1_q8_1(int n, const void* w, const void* a, size_t s, int na, float* out);
void vec_dot_multi_q8_0_q8_0(int n, const void* w, const void* a, size_t s, int na, float* out);
void gemv_q4_0_q8_0(int n, const void* W, size_t wrb, int r0, int r1, const void* act, float* y, void* work);
void gemv_q4_1_q8_1(int n, const void* W, size_t wrb, int r0, int r1, const void* act, float* y, void* work);
void gemv_q8_0_q8_0(int n, const void* W, size_t wrb, int r0, int r1, const void* act, float* y, void* work);
// Over 16-row panels [p0, p1) of a matrix repacked by weight_repack.h (y indexed by row).
void gemv_packed_q4_0_q8_0(int n, const void* P, int p0, int p1, const void* act, float* y, void* work);
void gemv_packed_q8_0_q8_0(int n, const void* P, int p0, int p1, const void* act, float* y, void* work);
// Panels [p0, p1) back to GGUF rows and rows into panels (row 0 of rows / dst = matrix row 16 p0).
void unpack_panels_q4_0(int n, const void* P, int p0, int p1, void* dst);
void unpack_panels_q8_0(int n, const void* P, int p0, int p1, void* dst);
void repack_panels_q4_0(int n, const void* rows, int p0, int p1, void* P);
void repack_panels_q8_0(int n, const void* rows, int p0, int p1, void* P);
void gemm_q4_0_q8_0(int n, const void* W, size_t wrb, int r0, int r1, const void* act, size_t arb, int n_act,
                    float* Y, size_t ldy, void* work);
void gemm_q4_1_q8_1(int n, const void* W, size_t wrb, int r0, int r1, const void* act, size_t arb, int n_act,
                    float* Y, size_t ldy, void* work);
void gemm_q8_0_q8_0(int n, const void* W, size_t wrb, int r0, int r1, const void* act, size_t arb, int n_act,
                    float* Y, size_t ldy, void* work);
float vec_dot_q4_K_q8_K(int n, const void* w, const void* a);
float vec_dot_q5_K_q8_K(int n, const void* w, const void* a);
float vec_dot_q6_K_q8_K(int n, const void* w, const void* a);
void vec_dot_multi_q4_K_q8_K(int n, const void* w, const void* a, size_t s, int na, float* out);
void vec_dot_multi_q5_K_q8_K(int n, const void* w, const void* a, size_t s, int na, float* out);
void vec_dot_multi_q6_K_q8_K(int n, const void* w, const void* a, size_t s, int na, float* out);
void gemm_q4_K_q8_K(int n, const void* W, size_t wrb, int r0, int r1, const void* act, size_t arb, int n_act,
                    float* Y, size_t ldy, void* work);
void gemm_q5_K_q8_K(int n, const void* W, size_t wrb, int r0, int r1, const void* act, size_t arb, int n_act,
                    float* Y, size_t ldy, void* work);
void gemm_q6_K_q8_K(int n, const void* W, size_t wrb, int r0, int r1, const void* act, size_t arb, int n_act,
                    float* Y, size_t ldy, void* work);
}  // namespace paddock::quant::avx512

#endif  // PADDOCK_QUANT_X86
