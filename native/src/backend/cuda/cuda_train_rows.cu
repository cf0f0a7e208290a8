// Glue kernels of the training session (see cuda_train_rows.h). All are memory-bound copies:
// one block per row (gather/scatter, dropout) with threads striding over its columns, so
// accesses coalesce; the embedding gradient runs one block per distinct token of the row (host-
// built groups), each thread a column summing that token's rows in order (no atomics).
#include "backend/cuda/cuda_train_rows.h"

#include <algorithm>

#include "backend/cuda/gpu_device.cuh"

namespace pd_cuda {
namespace {

constexpr int kThreads = 128;

__global__ void gather_rows_kernel(const uint16_t* src, int64_t src_ld, const int32_t* idx, int64_t width,
                                   uint16_t* dst) {
  const int64_t i = blockIdx.x;
  const uint16_t* s = src + (int64_t)idx[i] * src_ld;
  uint16_t* d = dst + i * width;
  for (int64_t j = threadIdx.x; j < width; j += blockDim.x) d[j] = s[j];
}

__global__ void scatter_rows_kernel(const float* src, const int32_t* idx, int64_t width, float* dst) {
  const int64_t i = blockIdx.x;
  const float* s = src + i * width;
  float* d = dst + (int64_t)idx[i] * width;
  for (int64_t j = threadIdx.x; j < width; j += blockDim.x) d[j] = s[j];
}

// blockIdx.x: the unique token; blockIdx.y * blockDim.x + threadIdx.x: the column.
__global__ void embedding_grad_kernel(float* grad, const float* dx, const int32_t* ids, const int32_t* offsets,
                                      const int32_t* positions, int64_t dim) {
  const int64_t u = blockIdx.x, j = (int64_t)blockIdx.y * blockDim.x + threadIdx.x;
  if (j >= dim) return;
  float* g = grad + (int64_t)ids[u] * dim + j;
  float acc = *g;  // the same additions, in the same order, as grad += dx[t] for t ascending
  for (int32_t i = offsets[u]; i < offsets[u + 1]; i++) acc += dx[(int64_t)positions[i] * dim + j];
  *g = acc;
}

// core/splitmix.h's mixer (host-only there); the two must stay identical for CPU/GPU masks to agree.
__device__ __forceinline__ uint64_t splitmix64_dev(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// train_linear.cpp's dropout_keep.
__device__ __forceinline__ bool dropout_keep(uint64_t seed, uint64_t stream, int64_t t, int64_t i, float p) {
  const uint64_t h = splitmix64_dev(seed ^ splitmix64_dev((stream << 48) ^ ((uint64_t)t << 24) ^ (uint64_t)i));
  return (double)(h >> 11) * (1.0 / 9007199254740992.0) >= (double)p;
}

__global__ void dropout_bf16_kernel(const pd_bf16* x, int64_t n, uint64_t seed, uint64_t stream, float p, float inv,
                                    pd_bf16* out) {
  const int64_t t = blockIdx.x;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    const float v = dropout_keep(seed, stream, t, i, p) ? __bfloat162float(x[t * n + i]) * inv : 0.0f;
    out[t * n + i] = __float2bfloat16_rn(v);
  }
}

__global__ void dropout_add_kernel(const float* g, int64_t n, uint64_t seed, uint64_t stream, float p, float inv,
                                   float* dx) {
  const int64_t t = blockIdx.x;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x)
    if (dropout_keep(seed, stream, t, i, p)) dx[t * n + i] += g[t * n + i] * inv;
}

}  // namespace

void gather_rows_u16(const void* src, int64_t src_ld, const int32_t* idx, int64_t n, int64_t width, void* dst,
                     pd_stream_t s) {
  if (n <= 0) return;
  pd_launch(gather_rows_kernel, dim3((unsigned)n), dim3(kThreads), 0, s, (const uint16_t*)src, src_ld, idx, width,
            (uint16_t*)dst);
}

void scatter_rows_f32(const float* src, const int32_t* idx, int64_t n, int64_t width, float* dst, pd_stream_t s) {
  if (n <= 0) return;
  pd_launch(scatter_rows_kernel, dim3((unsigned)n), dim3(kThreads), 0, s, src, idx, width, dst);
}

void group_tokens(const int32_t* tokens, int64_t T, TokenGroups* out) {
  std::vector<int32_t>& pos = out->positions;
  pos.resize((size_t)T);
  for (int64_t t = 0; t < T; t++) pos[(size_t)t] = (int32_t)t;
  // stable: equal tokens keep ascending positions, the summation order of the serial loop
  std::stable_sort(pos.begin(), pos.end(), [&](int32_t a, int32_t b) { return tokens[a] < tokens[b]; });
  out->ids.clear();
  out->offsets.clear();
  for (int64_t i = 0; i < T; i++) {
    const int32_t id = tokens[pos[(size_t)i]];
    if (out->ids.empty() || out->ids.back() != id) {
      out->ids.push_back(id);
      out->offsets.push_back((int32_t)i);
    }
  }
  out->offsets.push_back((int32_t)T);
}

void embedding_grad_add(float* grad, const float* dx, const int32_t* ids, const int32_t* offsets,
                        const int32_t* positions, int64_t unique, int64_t dim, pd_stream_t s) {
  if (unique <= 0) return;
  const dim3 grid((unsigned)unique, (unsigned)pd_ceil_div(dim, kThreads));
  pd_launch(embedding_grad_kernel, grid, dim3(kThreads), 0, s, grad, dx, ids, offsets, positions, dim);
}

void lora_dropout_bf16(const pd_bf16* x, int64_t T, int64_t n, uint64_t seed, uint64_t stream, float p, pd_bf16* out,
                       pd_stream_t s) {
  if (T <= 0) return;
  pd_launch(dropout_bf16_kernel, dim3((unsigned)T), dim3(kThreads), 0, s, x, n, seed, stream, p, 1.0f / (1.0f - p),
            out);
}

void lora_dropout_add_f32(const float* g, int64_t T, int64_t n, uint64_t seed, uint64_t stream, float p, float* dx,
                          pd_stream_t s) {
  if (T <= 0) return;
  pd_launch(dropout_add_kernel, dim3((unsigned)T), dim3(kThreads), 0, s, g, n, seed, stream, p, 1.0f / (1.0f - p), dx);
}

}  // namespace pd_cuda
