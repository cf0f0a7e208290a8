// Baseline tile of the backward GEMMs and the run-time choice of table.
#include "backend/cpu/matmul_grad_kernels.h"

#include "backend/cpu/cpu_features.h"

namespace paddock {

#if defined(PADDOCK_HAVE_AVX2_TU)
const GradGemmKernels& grad_gemm_kernels_avx2_table();  // matmul_grad_avx2.cpp
#endif
#if defined(PADDOCK_HAVE_AVX512_TU)
const GradGemmKernels& grad_gemm_kernels_avx512_table();  // matmul_grad_avx512.cpp
#endif

namespace {

// 4 rows x 8 columns of plain float arithmetic: the compiler vectorises the column loop into 8
// SSE accumulators (wider tiles spill the 16 xmm registers and ran 4x slower). Rows past `rows`
// are computed on zero padding and dropped.
constexpr int kMr = 4, kNr = 8, kKc = 256;

void tile_scalar(const float* a, const float* b, int64_t kc, float* out, int64_t ldo, int rows, int cols, bool load) {
  float acc[kMr][kNr];
  for (int r = 0; r < kMr; r++)
    for (int c = 0; c < kNr; c++) acc[r][c] = load && r < rows && c < cols ? out[r * ldo + c] : 0.0f;
  for (int64_t k = 0; k < kc; k++)
    for (int r = 0; r < kMr; r++) {
      const float av = a[k * kMr + r];
      for (int c = 0; c < kNr; c++) acc[r][c] += av * b[k * kNr + c];
    }
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++) out[r * ldo + c] = acc[r][c];
}

}  // namespace

const GradGemmKernels& grad_gemm_kernels_scalar() {
  static const GradGemmKernels k = {"scalar", kMr, kNr, kKc, tile_scalar, nullptr};
  return k;
}

const GradGemmKernels* grad_gemm_kernels_avx2() {
#if defined(PADDOCK_HAVE_AVX2_TU)
  return cpu_features().avx2 ? &grad_gemm_kernels_avx2_table() : nullptr;
#else
  return nullptr;
#endif
}

const GradGemmKernels* grad_gemm_kernels_avx512() {
#if defined(PADDOCK_HAVE_AVX512_TU)
  return cpu_features().avx512 ? &grad_gemm_kernels_avx512_table() : nullptr;
#else
  return nullptr;
#endif
}

const GradGemmKernels& grad_gemm_kernels() {
  static const GradGemmKernels* chosen = [] {
    if (const GradGemmKernels* avx512 = grad_gemm_kernels_avx512()) return avx512;
    const GradGemmKernels* avx2 = grad_gemm_kernels_avx2();
    return avx2 ? avx2 : &grad_gemm_kernels_scalar();
  }();
  return *chosen;
}

std::vector<const GradGemmKernels*> grad_gemm_tables() {
  std::vector<const GradGemmKernels*> t = {&grad_gemm_kernels_scalar()};
  if (const GradGemmKernels* avx2 = grad_gemm_kernels_avx2()) t.push_back(avx2);
  if (const GradGemmKernels* avx512 = grad_gemm_kernels_avx512()) t.push_back(avx512);
  return t;
}

}  // namespace paddock
