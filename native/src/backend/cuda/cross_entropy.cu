// Masked cross-entropy over rows of logits on the device, the gradient written in place
// (backend/cpu/ops_grad.h cross_entropy_backward, row by row; the loss here is F32 per row).
//
// One block per row (V up to 128256 for Llama 3: 500 KB a row). Pass 1 reads the row once with
// 16-byte loads and keeps an online (max, sum of exp(x - max)) per thread, rescaling the sum when
// the max grows (it rarely does after the first few elements); the threads' pairs are merged in
// a fixed order. Pass 2 reads the row again and writes dlogits = grad_scale w softmax - onehot
// over it (and as BF16 when asked). Two reads and one write per element: the minimum for an
// in-place softmax gradient. A row with weight 0 writes zeros without reading its logits.
#include <cmath>

#include "backend/cuda/pointwise_common.cuh"
#include "backend/cuda/pointwise_ops.h"

namespace pd_cuda {
namespace {

using pointwise::load;
using pointwise::store;

constexpr int kMaxThreads = 512;

// A running (max, sum of exp(x - max)); max = -inf with sum 0 is the empty set.
struct MaxSum {
  float max, sum;
};

__device__ __forceinline__ void add_value(MaxSum& a, float x) {
  if (x > a.max) {
    a.sum = a.sum * expf(a.max - x) + 1.0f;
    a.max = x;
  } else if (x != -INFINITY) {  // -inf adds exp(-inf) = 0 (and -inf - -inf would be NaN); NaN stays NaN
    a.sum += expf(x - a.max);
  }
}

__device__ __forceinline__ MaxSum merge(MaxSum a, MaxSum b) {
  const float mx = fmaxf(a.max, b.max);
  if (mx == -INFINITY) return {mx, a.sum + b.sum};  // empty (0), or a NaN to keep
  return {mx, a.sum * expf(a.max - mx) + b.sum * expf(b.max - mx)};
}

// The block's merged pair, the same bits in every thread: a tree down to lane 0 of each warp,
// then every warp merges the warps' pairs in the same order and broadcasts lane 0's result (a
// butterfly would not do: a contracted a*b + c*d is not symmetric in its two terms).
__device__ __forceinline__ MaxSum warp_merge(MaxSum a) {
  for (int d = 16; d > 0; d >>= 1) {
    const MaxSum b{__shfl_down_sync(0xffffffffu, a.max, d), __shfl_down_sync(0xffffffffu, a.sum, d)};
    a = merge(a, b);
  }
  return {__shfl_sync(0xffffffffu, a.max, 0), __shfl_sync(0xffffffffu, a.sum, 0)};
}

__device__ __forceinline__ MaxSum block_merge(MaxSum a) {
  __shared__ float part_max[32], part_sum[32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, n_warps = blockDim.x >> 5;
  a = warp_merge(a);
  if (lane == 0) {
    part_max[warp] = a.max;
    part_sum[warp] = a.sum;
  }
  __syncthreads();
  MaxSum w{-INFINITY, 0.0f};
  if (lane < n_warps) w = {part_max[lane], part_sum[lane]};
  return warp_merge(w);
}

template <int W>
__global__ void __launch_bounds__(kMaxThreads)
    cross_entropy_kernel(float* logits, int64_t V, const int32_t* targets, const float* weights, float grad_scale,
                         float* loss_out, pd_bf16* dlogits_bf16) {
  const int64_t r = blockIdx.x;
  float* row = logits + r * V;
  pd_bf16* row16 = dlogits_bf16 ? dlogits_bf16 + r * V : nullptr;
  const int64_t step = (int64_t)blockDim.x * W;
  const float w = weights[r];
  if (w == 0.0f) {  // a masked position: no reads, exactly no gradient
    const float zero[W] = {};
    for (int64_t j = (int64_t)threadIdx.x * W; j < V; j += step) {
      store<W>(row + j, zero);
      if (row16) store<W>(row16 + j, zero);
    }
    if (threadIdx.x == 0) loss_out[r] = 0.0f;
    return;
  }
  const int32_t target = targets[r];
  // Read before the merge's barrier: pass 2 overwrites the row.
  const float at_target = (threadIdx.x == 0 && target >= 0 && target < V) ? row[target] : NAN;

  MaxSum ms{-INFINITY, 0.0f};
  for (int64_t j = (int64_t)threadIdx.x * W; j < V; j += step) {
    float v[W];
    load<W>(row + j, v);
    for (int k = 0; k < W; k++) add_value(ms, v[k]);
  }
  ms = block_merge(ms);

  const float scale_w = grad_scale * w;
  const float f = scale_w / ms.sum;
  for (int64_t j = (int64_t)threadIdx.x * W; j < V; j += step) {
    float v[W];
    load<W>(row + j, v);
    for (int k = 0; k < W; k++) {
      v[k] = expf(v[k] - ms.max) * f;
      if (j + k == target) v[k] -= scale_w;
    }
    store<W>(row + j, v);
    if (row16) store<W>(row16 + j, v);
  }
  if (threadIdx.x == 0) loss_out[r] = w * (ms.max + logf(ms.sum) - at_target);
}

}  // namespace

void cross_entropy_rows(float* logits, int64_t R, int64_t V, const int32_t* targets, const float* weights,
                        float grad_scale, float* loss_out, pd_bf16* dlogits_bf16, pd_stream_t s) {
  if (R <= 0 || V <= 0) return;
  // 16-byte F32 and 8-byte BF16 accesses when every row starts aligned.
  const bool vec4 = V % 4 == 0 && pointwise::all_aligned16(logits) && pointwise::aligned_to(dlogits_bf16, 8);
  const int threads = pointwise::row_block_threads(vec4 ? V / 4 : V, kMaxThreads);
  if (vec4)
    pd_launch(cross_entropy_kernel<4>, dim3((unsigned)R), dim3(threads), 0, s, logits, V, targets, weights,
              grad_scale, loss_out, dlogits_bf16);
  else
    pd_launch(cross_entropy_kernel<1>, dim3((unsigned)R), dim3(threads), 0, s, logits, V, targets, weights,
              grad_scale, loss_out, dlogits_bf16);
}

}  // namespace pd_cuda
