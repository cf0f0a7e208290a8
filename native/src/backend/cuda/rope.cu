// RoPE on the device: rotates the interleaved pairs (x[2i], x[2i+1]) of every head of a row by
// the angle of pair i (backend/cpu/ops.h rope_apply; backward by minus the angle, ops_grad.h
// rope_backward). The table rope [T][hd] holds cos in its first hd/2 floats, sin in the second,
// made on the host so both backends rotate by the same float angles.
//
// One block per row (token): the row's cos/sin (hd floats) stay in L1 for all heads; each thread
// moves one pair per step as one 8-byte (F32) or 4-byte (BF16) access, in place.
#include "backend/cuda/pointwise_common.cuh"
#include "backend/cuda/pointwise_ops.h"

namespace pd_cuda {
namespace {

using pointwise::load;
using pointwise::store;

// forward: (v0 c - v1 s, v0 s + v1 c); backward: the same with -s, which is bitwise the CPU's
// (d0 c + d1 s, d1 c - d0 s) since a + (-b) == a - b.
template <class T, bool kBackward>
__global__ void __launch_bounds__(256) rope_kernel(T* x, int n_heads, int head_dim, const float* rope) {
  const int64_t row = blockIdx.x;
  const int half = head_dim / 2, pairs = n_heads * half;
  T* xr = x + row * (int64_t)n_heads * head_dim;
  const float* cos_r = rope + row * head_dim;
  const float* sin_r = cos_r + half;
  for (int q = threadIdx.x; q < pairs; q += blockDim.x) {
    const int i = q % half;
    const float c = cos_r[i], sn = kBackward ? -sin_r[i] : sin_r[i];
    float v[2], o[2];
    load<2>(xr + 2 * q, v);
    o[0] = v[0] * c - v[1] * sn;
    o[1] = v[0] * sn + v[1] * c;
    store<2>(xr + 2 * q, o);
  }
}

template <class T, bool kBackward>
void launch_rope(T* x, int64_t T_rows, int n_heads, int head_dim, const float* rope, pd_stream_t s) {
  if (T_rows <= 0 || n_heads <= 0 || head_dim < 2) return;
  const int threads = pointwise::row_block_threads((int64_t)n_heads * head_dim / 2, 256);
  pd_launch(rope_kernel<T, kBackward>, dim3((unsigned)T_rows), dim3(threads), 0, s, x, n_heads, head_dim, rope);
}

}  // namespace

void rope_forward(float* x, int64_t T, int n_heads, int head_dim, const float* rope, pd_stream_t s) {
  launch_rope<float, false>(x, T, n_heads, head_dim, rope, s);
}
void rope_forward_bf16(pd_bf16* x, int64_t T, int n_heads, int head_dim, const float* rope, pd_stream_t s) {
  launch_rope<pd_bf16, false>(x, T, n_heads, head_dim, rope, s);
}
void rope_backward(float* dx, int64_t T, int n_heads, int head_dim, const float* rope, pd_stream_t s) {
  launch_rope<float, true>(dx, T, n_heads, head_dim, rope, s);
}

}  // namespace pd_cuda
