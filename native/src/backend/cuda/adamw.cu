// The optimizer's device kernels: the fused AdamW update (train/adamw.cpp adamw_step's
// arithmetic, element by element, with clip_grads' g *= factor folded in) and the deterministic
// sum of squares behind the global gradient norm.
//
// adamw_update: one pass, 16-byte accesses over param, grad, m, v (pointwise_common.cuh). The
// per-step constants are made on the host from the double args and rounded once, as adamw.cpp does.
// sum_squares: a fixed grid (kPartialBlocks x 256 threads, whatever the GPU) where each thread
// adds its fixed stride of x^2 in double and each block sums its threads in a fixed tree into a
// partial; a one-block kernel then adds the partials in a fixed tree. Same bits on every run.
// The partials live in a small buffer per stream (kPartialBlocks doubles), allocated on first use
// with pd_gpu::device_malloc and kept for the process (one per stream: calls on one stream are
// ordered, so they never share a buffer concurrently).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <unordered_map>

#include "backend/cuda/pointwise_common.cuh"
#include "backend/cuda/pointwise_ops.h"

namespace pd_cuda {
namespace {

using pointwise::block_sum;
using pointwise::load;
using pointwise::store;

struct AdamWUpdate {
  float* param;
  const float* grad;
  float* m;
  float* v;
  float clip, decay, beta1, one_minus_beta1, beta2, one_minus_beta2, step_size, bias2_sqrt, eps;
  template <int W>
  __device__ __forceinline__ void apply(int64_t i) const {
    float p[W], g[W], mv[W], vv[W];
    load<W>(param + i, p);
    load<W>(grad + i, g);
    load<W>(m + i, mv);
    load<W>(v + i, vv);
    for (int k = 0; k < W; k++) {
      const float gk = g[k] * clip;  // clip_grads, unless the factor is 1 (then exact)
      p[k] = p[k] * decay;
      mv[k] = mv[k] * beta1 + gk * one_minus_beta1;
      vv[k] = vv[k] * beta2 + gk * gk * one_minus_beta2;
      p[k] = p[k] - step_size * (mv[k] / (sqrtf(vv[k]) / bias2_sqrt + eps));
    }
    store<W>(param + i, p);
    store<W>(m + i, mv);
    store<W>(v + i, vv);
  }
};

constexpr int kPartialBlocks = 512;  // 128K threads: enough loads in flight to fill HBM
constexpr int kSumThreads = 256;

template <int W>
__global__ void __launch_bounds__(kSumThreads) sum_squares_partial_kernel(const float* x, int64_t n,
                                                                          double* partials) {
  const int64_t first = (int64_t)blockIdx.x * kSumThreads + threadIdx.x;
  const int64_t stride = (int64_t)kPartialBlocks * kSumThreads;
  const int64_t body = n / W * W;
  double acc = 0.0;
  for (int64_t i = first * W; i < body; i += stride * W) {
    float v[W];
    load<W>(x + i, v);
    for (int k = 0; k < W; k++) acc += (double)v[k] * (double)v[k];
  }
  if (first < n - body) acc += (double)x[body + first] * (double)x[body + first];  // the last n % W
  acc = block_sum(acc);
  if (threadIdx.x == 0) partials[blockIdx.x] = acc;
}

__global__ void __launch_bounds__(kSumThreads) sum_squares_final_kernel(const double* partials, double* out,
                                                                        int accumulate) {
  double acc = 0.0;
  for (int i = threadIdx.x; i < kPartialBlocks; i += kSumThreads) acc += partials[i];
  acc = block_sum(acc);
  if (threadIdx.x == 0) *out = accumulate ? *out + acc : acc;
}

double* partials_for_stream(pd_stream_t s) {
  static std::mutex mu;
  static auto* buffers = new std::unordered_map<pd_stream_t, double*>();  // kept for the process
  std::lock_guard<std::mutex> lock(mu);
  double*& p = (*buffers)[s];
  if (!p) p = (double*)pd_gpu::device_malloc(kPartialBlocks * sizeof(double));
  return p;
}

}  // namespace

void adamw_update(float* param, const float* grad, float* m, float* v, int64_t n, const AdamWArgs& a,
                  pd_stream_t s) {
  // adamw.cpp's constants: double arithmetic, one rounding each.
  const AdamWUpdate op{param,
                       grad,
                       m,
                       v,
                       (float)a.clip_factor,  // clip_grads' (R)coef
                       (float)(1.0 - a.lr * a.weight_decay),
                       (float)a.beta1,
                       (float)(1.0 - a.beta1),
                       (float)a.beta2,
                       (float)(1.0 - a.beta2),
                       (float)(a.lr / a.bias1),
                       (float)std::sqrt(a.bias2),
                       (float)a.eps};
  pointwise::launch_pointwise(op, n, pointwise::all_aligned16(param, grad, m, v), s);
}

void sum_squares(const float* x, int64_t n, double* out, bool accumulate, pd_stream_t s) {
  double* partials = partials_for_stream(s);
  if (!partials) {  // a 4 KiB allocation failing: the device is unusable anyway
    std::fprintf(stderr, "sum_squares: cannot allocate its partial sums: %s\n", pd_gpu::last_error().c_str());
    std::abort();
  }
  const bool vec4 = pointwise::all_aligned16(x);
  if (vec4)
    pd_launch(sum_squares_partial_kernel<4>, dim3(kPartialBlocks), dim3(kSumThreads), 0, s, x, n, partials);
  else
    pd_launch(sum_squares_partial_kernel<1>, dim3(kPartialBlocks), dim3(kSumThreads), 0, s, x, n, partials);
  pd_launch(sum_squares_final_kernel, dim3(1), dim3(kSumThreads), 0, s, (const double*)partials, out,
            (int)accumulate);
}

}  // namespace pd_cuda
