// The register-blocked inner tile of the backward GEMMs (matmul_grad.cpp), one table per
// instruction set, chosen at run time like kernels.h (cpu_features(), so PADDOCK_CPU_ISA lowers
// it). The driver packs both operands so the tile reads contiguous memory:
//   a: a block of `mr` output rows, k-major: a[k * mr + r]  (broadcast one value per row)
//   b: a sliver of `nr` output columns, k-major: b[k * nr + c]  (whole vectors per k)
// and the tile adds sum_k a[k, r] * b[k, c] to an out block it holds in registers.
//
// Every output element is one chain over k in increasing order, acc = fma(a, b, acc) per k,
// starting from its value in `out` (load) or from 0; the tiling changes nothing in that chain,
// so results do not depend on the tile sizes, the block an element falls in or the thread count.
// The AVX2 and AVX-512 tables fuse every step and so agree bit for bit; the baseline rounds the
// product and the sum separately (no FMA in the portable target) and agrees to rounding.
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace paddock {

class ThreadPool;

using GradRowToFloat = bool (*)(const void* x, float* y, int64_t n);  // as quant::to_float_fn

struct GradGemmKernels {
  const char* isa;  // "scalar", "avx2" or "avx512"
  int mr;           // rows per tile
  int nr;           // columns per tile (a whole number of SIMD vectors)
  int kc;           // k steps per packed sliver: nr * kc floats of b stay in L1 across row blocks
  // out[r * ldo + c] = (load ? out[r * ldo + c] : 0) + sum_{k < kc} a[k * mr + r] * b[k * nr + c]
  // for r < rows <= mr, c < cols <= nr; nothing else in out is read or written.
  void (*tile)(const float* a, const float* b, int64_t kc, float* out, int64_t ldo, int rows, int cols, bool load);
  // A SIMD dequantizer of rows of weight type t giving exactly the reference to_float's values,
  // or nullptr (then the quant table's to_float runs). nullptr itself in the baseline table.
  GradRowToFloat (*simd_to_float)(DType t);
};

const GradGemmKernels& grad_gemm_kernels();         // the best table for this CPU (chosen once)
const GradGemmKernels& grad_gemm_kernels_scalar();  // the baseline table
const GradGemmKernels* grad_gemm_kernels_avx2();    // nullptr when the CPU or the build lacks AVX2+FMA
const GradGemmKernels* grad_gemm_kernels_avx512();  // nullptr when the CPU or the build lacks AVX-512
std::vector<const GradGemmKernels*> grad_gemm_tables();  // every table this CPU runs, baseline first

// matmul_input_grad / matmul_weight_grad (matmul_grad.h) with an explicit table (tests, benches).
void matmul_input_grad_with(const GradGemmKernels& k, ThreadPool* pool, const Tensor& W, const float* dy, int64_t T,
                            float* dx, bool accumulate);
void matmul_weight_grad_with(const GradGemmKernels& k, ThreadPool* pool, const float* dy, const float* x, int64_t T,
                             int64_t n_out, int64_t n_in, float* dW);

}  // namespace paddock
