// Split-K (see gemm_splitk.h): S ordinary gemm() calls over K slices into F32 slabs, then one
// reduce kernel. Slices are whole 32-wide k-tiles (gemm.cu's BK), so every slice's operand
// offset keeps 16-byte alignment and the slices' cp.async fast path is the unsplit one's.
#include "backend/cuda/gemm_splitk.h"

#include <algorithm>

#include "backend/cuda/gemm_tiles.cuh"
#include "backend/cuda/gpu_device.cuh"

namespace pd_cuda {
namespace {

constexpr int kReduceThreads = 256;
constexpr int64_t kSliceAlign = 32;  // gemm.cu's BK
constexpr int64_t kOutputTile = 64;  // gemm.cu's small tiles, what a thin product runs on

// C[i][j] = alpha * (ws[0][i][j] + ws[1][i][j] + ... in slice order) + beta C[i][j].
__global__ void splitk_reduce_kernel(const float* ws, int slices, int64_t M, int64_t N, float alpha, float beta,
                                     void* C, int64_t ldc, Elem c_type) {
  const int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (e >= M * N) return;
  const int64_t slab = M * N;
  float sum = ws[e];
  for (int s = 1; s < slices; s++) sum += ws[(int64_t)s * slab + e];
  const int64_t i = (e / N) * ldc + e % N;
  float v = alpha * sum;
  if (beta != 0.0f) v += beta * gemm_detail::load_c(C, i, c_type);
  gemm_detail::store_c(C, i, c_type, v);
}

// The operands of slice [k0, k0 + len): K-contiguous operands move along their rows, K-major
// ones skip k0 rows.
GemmDesc slice_desc(const GemmDesc& d, int64_t k0, int64_t len, float* out) {
  const size_t eb = elem_bytes(d.ab);
  const bool a_k_major = d.op == GemmOp::TN, b_k_major = d.op != GemmOp::NT;
  GemmDesc s = d;
  s.K = len;
  s.A = static_cast<const unsigned char*>(d.A) + (size_t)(a_k_major ? k0 * d.lda : k0) * eb;
  s.B = static_cast<const unsigned char*>(d.B) + (size_t)(b_k_major ? k0 * d.ldb : k0) * eb;
  s.C = out;
  s.c = Elem::F32;
  s.ldc = d.N;
  s.alpha = 1.0f;
  s.beta = 0.0f;
  return s;
}

}  // namespace

int splitk_slices(const GemmDesc& d, int sm_count, int64_t workspace_elements, int64_t min_slice_k) {
  if (d.ab == Elem::F32 || d.M <= 0 || d.N <= 0) return 1;  // the CUDA-core path has its own shape
  const int64_t tiles = pd_ceil_div(d.M, kOutputTile) * pd_ceil_div(d.N, kOutputTile);
  if (tiles >= sm_count) return 1;
  int64_t s = std::min<int64_t>(kSplitKMaxSlices, sm_count / tiles);
  s = std::min(s, d.K / std::max<int64_t>(min_slice_k, 1));
  s = std::min(s, workspace_elements / (d.M * d.N));
  return (int)std::max<int64_t>(s, 1);
}

void gemm_splitk(const GemmDesc& d, int slices, float* workspace, pd_stream_t s) {
  const int64_t slice_k = pd_ceil_div(pd_ceil_div(d.K, std::max(slices, 1)), kSliceAlign) * kSliceAlign;
  const int n = (int)pd_ceil_div(d.K, slice_k);  // whole k-tiles may leave fewer slices than asked
  if (slices <= 1 || n <= 1) {
    gemm(d, s);
    return;
  }
  for (int i = 0; i < n; i++) {
    const int64_t k0 = (int64_t)i * slice_k;
    gemm(slice_desc(d, k0, std::min(slice_k, d.K - k0), workspace + (int64_t)i * d.M * d.N), s);
  }
  const int64_t total = d.M * d.N;
  pd_launch(splitk_reduce_kernel, dim3((unsigned)pd_ceil_div(total, kReduceThreads)), dim3(kReduceThreads), 0, s,
            (const float*)workspace, n, d.M, d.N, d.alpha, d.beta, d.C, d.ldc, d.c);
}

}  // namespace pd_cuda
