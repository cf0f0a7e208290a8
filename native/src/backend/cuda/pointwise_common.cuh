// Device helpers shared by the pointwise kernels (rmsnorm.cu, rope.cu, swiglu.cu, elementwise.cu,
// cross_entropy.cu, adamw.cu): loads/stores of W = 1, 2 or 4 consecutive F32/BF16/F16 elements as
// one vector access (16, 8 or 4 bytes: the memory-bound ops move whole sectors per instruction),
// a fixed-order block sum (the same bits on every run), and a grid-stride launcher for
// element-wise ops written as a functor with apply<W>(i).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "backend/cuda/gpu_device.cuh"

namespace pd_cuda {
namespace pointwise {

__device__ __forceinline__ float to_float(float v) { return v; }
__device__ __forceinline__ float to_float(pd_bf16 v) { return __bfloat162float(v); }
__device__ __forceinline__ float to_float(pd_half v) { return __half2float(v); }

template <class T>
__device__ __forceinline__ T from_float(float v);
template <>
__device__ __forceinline__ float from_float<float>(float v) { return v; }
template <>
__device__ __forceinline__ pd_bf16 from_float<pd_bf16>(float v) { return __float2bfloat16_rn(v); }
template <>
__device__ __forceinline__ pd_half from_float<pd_half>(float v) { return __float2half_rn(v); }

// The register type moved by one access of `Bytes` bytes.
template <int Bytes> struct RawVec;
template <> struct RawVec<16> { using type = uint4; };
template <> struct RawVec<8> { using type = uint2; };
template <> struct RawVec<4> { using type = uint32_t; };
template <> struct RawVec<2> { using type = uint16_t; };

// o[k] = p[k], k < W, in one access (p aligned to W * sizeof(T)).
template <int W, class T>
__device__ __forceinline__ void load(const T* p, float (&o)[W]) {
  using Raw = typename RawVec<W * sizeof(T)>::type;
  const Raw raw = *reinterpret_cast<const Raw*>(p);
  T e[W];
  std::memcpy(static_cast<void*>(e), &raw, sizeof(e));  // bf16/half: trivially copyable bits
  for (int k = 0; k < W; k++) o[k] = to_float(e[k]);
}

// p[k] = round(v[k]), k < W, in one access.
template <int W, class T>
__device__ __forceinline__ void store(T* p, const float (&v)[W]) {
  using Raw = typename RawVec<W * sizeof(T)>::type;
  T e[W];
  for (int k = 0; k < W; k++) e[k] = from_float<T>(v[k]);
  Raw raw;
  std::memcpy(&raw, e, sizeof(e));
  *reinterpret_cast<Raw*>(p) = raw;
}

template <class T>
__device__ __forceinline__ T warp_sum(T v) {
  // A butterfly: every lane adds the same two values (a + b == b + a), so all lanes end with
  // the same bits.
  for (int m = 16; m > 0; m >>= 1) v += __shfl_xor_sync(0xffffffffu, v, m);
  return v;
}

// Sum of v over the block, returned to every thread (blockDim.x a multiple of 32). Every thread
// must call it. Fixed association: the same bits on every run, and in every warp.
template <class T>
__device__ __forceinline__ T block_sum(T v) {
  __shared__ T warp_part[32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, n_warps = blockDim.x >> 5;
  v = warp_sum(v);
  __syncthreads();  // a previous call's readers are done with warp_part
  if (lane == 0) warp_part[warp] = v;
  __syncthreads();
  return warp_sum(lane < n_warps ? warp_part[lane] : T(0));
}

// Threads for a row-per-block kernel over `items` vector accesses: about four accesses each
// (enough in flight to hide latency), a power of two in [32, max_threads].
inline int row_block_threads(int64_t items, int max_threads) {
  int t = 32;
  while (t < max_threads && (int64_t)t * 4 < items) t *= 2;
  return t;
}

inline bool aligned_to(const void* p, size_t bytes) { return p == nullptr || (uintptr_t)p % bytes == 0; }
// All operands allow 16-byte accesses (nullptr: an absent optional operand).
template <class... P>
inline bool all_aligned16(const P*... p) {
  return (aligned_to(p, 16) && ...);
}

// Element-wise ops: op.apply<4>(i) handles elements i..i+3 (one vector access per operand),
// op.apply<1>(i) element i. vec4 (all operands 16-byte aligned, decided by the launcher) runs
// the body as apply<4> and the last n % 4 elements as apply<1>.
template <class Op>
__global__ void __launch_bounds__(256) pointwise_kernel(Op op, int64_t n, int vec4) {
  const int64_t stride = (int64_t)gridDim.x * blockDim.x;
  const int64_t first = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  int64_t done = 0;
  if (vec4) {
    done = n / 4 * 4;
    for (int64_t i = first * 4; i < done; i += stride * 4) op.template apply<4>(i);
  }
  for (int64_t i = done + first; i < n; i += stride) op.template apply<1>(i);
}

// A grid of at most 4096 blocks of 256 threads (a few waves on an H100's 132 SMs; each thread
// then strides over the rest, so huge n costs no extra blocks).
template <class Op>
void launch_pointwise(const Op& op, int64_t n, bool vec4, pd_stream_t s) {
  if (n <= 0) return;
  constexpr int kThreads = 256;
  constexpr int64_t kMaxBlocks = 4096;
  const int64_t items = vec4 ? pd_ceil_div(n, 4) : n;
  const int64_t blocks = std::min(pd_ceil_div(items, kThreads), kMaxBlocks);
  pd_launch(pointwise_kernel<Op>, dim3((unsigned)blocks), dim3(kThreads), 0, s, op, n, (int)vec4);
}

}  // namespace pointwise
}  // namespace pd_cuda
