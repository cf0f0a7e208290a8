// RMSNorm forward and backward on the device (backend/cpu/ops_grad.h rmsnorm_forward /
// rmsnorm_backward / rmsnorm_weight_grad, same order of operations).
//
// forward and dx: one block per row (a row of n <= a few thousand floats fits L1, so the second
// read of x is cheap); 16-byte loads when n % 4 == 0 and the rows are aligned, scalar otherwise.
// dw: a block per 32 columns with 16 row lanes (blockDim 32 x 16): each warp reads 128 contiguous
// bytes of a row, each lane sums rows y, y + 16, ... and the 16 lane sums are added in lane order,
// so the column sums are the same bits on every run without atomics or a scratch buffer.
#include "backend/cuda/pointwise_common.cuh"
#include "backend/cuda/pointwise_ops.h"

namespace pd_cuda {
namespace {

using pointwise::block_sum;
using pointwise::load;
using pointwise::store;

template <int W, class Out>
__global__ void __launch_bounds__(512)
    rmsnorm_forward_kernel(const float* x, const float* w, int64_t n, float eps, Out* out, float* rstd_out) {
  const int64_t row = blockIdx.x;
  const float* xr = x + row * n;
  Out* yr = out + row * n;
  float ss = 0.0f;
  for (int64_t j = (int64_t)threadIdx.x * W; j < n; j += (int64_t)blockDim.x * W) {
    float v[W];
    load<W>(xr + j, v);
    for (int k = 0; k < W; k++) ss += v[k] * v[k];
  }
  ss = block_sum(ss);
  const float rstd = 1.0f / sqrtf(ss / (float)n + eps);  // ops.h rmsnorm: 1 / sqrt(mean + eps)
  if (rstd_out && threadIdx.x == 0) rstd_out[row] = rstd;
  for (int64_t j = (int64_t)threadIdx.x * W; j < n; j += (int64_t)blockDim.x * W) {
    float v[W], g[W], o[W];
    load<W>(xr + j, v);
    load<W>(w + j, g);
    for (int k = 0; k < W; k++) o[k] = g[k] * (rstd * v[k]);
    store<W>(yr + j, o);
  }
}

// dx may alias dy: every element is read by the thread that writes it, after the block sum.
template <int W>
__global__ void __launch_bounds__(512) rmsnorm_backward_dx_kernel(const float* dy, const float* x, const float* w,
                                                                  const float* rstd, int64_t n, float* dx,
                                                                  int accumulate) {
  const int64_t row = blockIdx.x;
  const float* dyr = dy + row * n;
  const float* xr = x + row * n;
  float* dxr = dx + row * n;
  float dot = 0.0f;  // sum_j dy_j w_j x_j
  for (int64_t j = (int64_t)threadIdx.x * W; j < n; j += (int64_t)blockDim.x * W) {
    float d[W], g[W], v[W];
    load<W>(dyr + j, d);
    load<W>(w + j, g);
    load<W>(xr + j, v);
    for (int k = 0; k < W; k++) dot += d[k] * g[k] * v[k];
  }
  dot = block_sum(dot);
  const float r = rstd[row];
  const float c = r * r * dot / (float)n;
  for (int64_t j = (int64_t)threadIdx.x * W; j < n; j += (int64_t)blockDim.x * W) {
    float d[W], g[W], v[W], o[W];
    load<W>(dyr + j, d);
    load<W>(w + j, g);
    load<W>(xr + j, v);
    if (accumulate) load<W>(dxr + j, o);
    for (int k = 0; k < W; k++) {
      const float grad = r * (d[k] * g[k] - v[k] * c);
      o[k] = accumulate ? o[k] + grad : grad;
    }
    store<W>(dxr + j, o);
  }
}

constexpr int kDwCols = 32, kDwRowLanes = 16;

__global__ void __launch_bounds__(kDwCols * kDwRowLanes)
    rmsnorm_weight_grad_kernel(const float* dy, const float* x, const float* rstd, int64_t T, int64_t n, float* dw) {
  __shared__ float lane_sum[kDwRowLanes][kDwCols + 1];
  const int64_t j = (int64_t)blockIdx.x * kDwCols + threadIdx.x;
  float acc = 0.0f;
  if (j < n) {
    for (int64_t t = threadIdx.y; t < T; t += kDwRowLanes) acc += dy[t * n + j] * (x[t * n + j] * rstd[t]);
  }
  lane_sum[threadIdx.y][threadIdx.x] = acc;
  __syncthreads();
  if (threadIdx.y == 0 && j < n) {
    float total = 0.0f;
    for (int y = 0; y < kDwRowLanes; y++) total += lane_sum[y][threadIdx.x];
    dw[j] += total;
  }
}


template <class Out>
void launch_forward(const float* x, const float* w, int64_t T, int64_t n, float eps, Out* out, float* rstd,
                    bool vec4, pd_stream_t s) {
  const int threads = pointwise::row_block_threads(vec4 ? n / 4 : n, 512);
  if (vec4)
    pd_launch(rmsnorm_forward_kernel<4, Out>, dim3((unsigned)T), dim3(threads), 0, s, x, w, n, eps, out, rstd);
  else
    pd_launch(rmsnorm_forward_kernel<1, Out>, dim3((unsigned)T), dim3(threads), 0, s, x, w, n, eps, out, rstd);
}

}  // namespace

void rmsnorm_forward(const float* x, const float* w, int64_t T, int64_t n, float eps, Elem out_type, void* out,
                     float* rstd, pd_stream_t s) {
  if (T <= 0 || n <= 0) return;
  // 16-byte accesses when every row starts 16-byte aligned.
  const bool vec4 = n % 4 == 0 && pointwise::all_aligned16(x, w, (const char*)out);
  if (out_type == Elem::F32)
    launch_forward(x, w, T, n, eps, (float*)out, rstd, vec4, s);
  else if (out_type == Elem::BF16)
    launch_forward(x, w, T, n, eps, (pd_bf16*)out, rstd, vec4, s);
  else
    launch_forward(x, w, T, n, eps, (pd_half*)out, rstd, vec4, s);
}

void rmsnorm_backward(const float* dy, const float* x, const float* w, const float* rstd, int64_t T, int64_t n,
                      float* dx, bool accumulate, float* dw, pd_stream_t s) {
  if (T <= 0 || n <= 0) return;
  if (dx) {
    const bool vec4 = n % 4 == 0 && pointwise::all_aligned16(dy, x, w, dx);
    const int threads = pointwise::row_block_threads(vec4 ? n / 4 : n, 512);
    if (vec4)
      pd_launch(rmsnorm_backward_dx_kernel<4>, dim3((unsigned)T), dim3(threads), 0, s, dy, x, w, rstd, n, dx,
                (int)accumulate);
    else
      pd_launch(rmsnorm_backward_dx_kernel<1>, dim3((unsigned)T), dim3(threads), 0, s, dy, x, w, rstd, n, dx,
                (int)accumulate);
  }
  if (dw)
    pd_launch(rmsnorm_weight_grad_kernel, dim3((unsigned)pd_ceil_div(n, kDwCols)), dim3(kDwCols, kDwRowLanes), 0, s,
              dy, x, rstd, T, n, dw);
}

}  // namespace pd_cuda
