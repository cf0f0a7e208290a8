// GemmDesc (the host contract, gemm.h) -> GemmArgs (what the GEMM kernels read, gemm_tiles.cuh):
// one conversion shared by the mma.sync launcher (gemm.cu) and the wgmma one (gemm_wgmma.cu).
#pragma once

#include <cstdint>

#include "backend/cuda/gemm.h"
#include "backend/cuda/gemm_tiles.cuh"

namespace pd_cuda {
namespace gemm_detail {

inline bool aligned_to(const void* ptr, size_t bytes) { return reinterpret_cast<uintptr_t>(ptr) % bytes == 0; }

// tiles_m / tiles_n are left 0: they depend on the kernel's block tile (its launcher sets them).
inline GemmArgs make_gemm_args(const GemmDesc& d) {
  GemmArgs p{};
  p.A = static_cast<const uint16_t*>(d.A);
  p.B = static_cast<const uint16_t*>(d.B);
  p.C = d.C;
  p.lda = d.lda;
  p.ldb = d.ldb;
  p.ldc = d.ldc;
  p.M = (int)d.M;
  p.N = (int)d.N;
  p.K = (int)d.K;
  p.alpha = d.alpha;
  p.beta = d.beta;
  p.c_type = d.c;
  p.c_pairs = d.ldc % 2 == 0 && aligned_to(d.C, 2 * elem_bytes(d.c));
  return p;
}

// The 16-byte cp.async loads need 8-element leading dimensions and 16-byte aligned bases.
inline bool gemm_vector_loads(const GemmDesc& d) {
  return d.lda % 8 == 0 && d.ldb % 8 == 0 && aligned_to(d.A, 16) && aligned_to(d.B, 16);
}

}  // namespace gemm_detail
}  // namespace pd_cuda
