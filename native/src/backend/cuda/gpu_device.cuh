// The device side of the CUDA backend: the few primitives kernels use beyond plain C++, each
// either the real CUDA intrinsic / PTX instruction (nvcc) or its emulation (PADDOCK_CUDA_EMU,
// compiled by the host compiler; every CUDA thread is a fiber, see emu/emulator.h). Kernels use
// only these, never raw asm or <<< >>>, so every kernel also runs, slowly but exactly, in CI.
//
//   __global__ __device__ __host__ __forceinline__ __launch_bounds__ __shared__ __align__
//   threadIdx blockIdx blockDim gridDim  __syncthreads()  __syncwarp()
//   __shfl_xor_sync __shfl_sync __shfl_down_sync __shfl_up_sync __ballot_sync (full-warp masks only)
//   atomicAdd (float, double, int, unsigned)  atomicMax(int)  __dp4a  __popc  __ldg  min/max
//   __float_as_uint & co.  rsqrtf __expf __logf __fdividef (plus <cmath>'s expf, sqrtf, ...)
//   pd_mma_16816_bf16 / pd_mma_16816_f16: D = A B + C, m16n8k16, F32 accumulate (PTX fragment layout)
//   pd_ldmatrix_x{1,2,4}[_trans]: ldmatrix.sync.aligned.m8n8 b16 from shared memory
//   pd_cp_async_16 / pd_cp_async_commit / pd_cp_async_wait<N>: 16-byte async global->shared copies
//   PD_DYNAMIC_SMEM(T, name): the block's dynamic shared memory as T*
//   pd_launch(kernel, grid, block, smem_bytes, stream, args...): a kernel launch
#pragma once

#include <cstdint>
#include <cstring>

#include "backend/cuda/gpu_runtime.h"

#if defined(PADDOCK_CUDA_EMU)
#include <cmath>
#include "backend/cuda/emu/emulator.h"

// The toolkit's host_defines.h gives these GCC attributes; the emulator wants plain C++.
#undef __global__
#undef __device__
#undef __host__
#undef __forceinline__
#undef __noinline__
#undef __launch_bounds__
#undef __shared__
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__
#define __launch_bounds__(...)
#define __shared__ static
#define threadIdx (::pd_emu::current().thread_idx)
#define blockIdx (::pd_emu::current().block_idx)
#define blockDim (::pd_emu::current().block_dim)
#define gridDim (::pd_emu::current().grid_dim)
#define PD_DYNAMIC_SMEM(T, name) T* name = reinterpret_cast<T*>(::pd_emu::dynamic_smem())

inline void __syncthreads() { pd_emu::sync_block(); }
inline void __syncwarp(unsigned = 0xffffffffu) { pd_emu::sync_warp(); }
template <class T>
inline T __shfl_sync(unsigned, T v, int src_lane, int width = 32) {
  T all[32];
  pd_emu::warp_exchange(&v, sizeof(T), all);
  const int lane = pd_emu::lane_id(), base = lane - lane % width;
  return all[base + ((src_lane % width) + width) % width];
}
template <class T>
inline T __shfl_xor_sync(unsigned, T v, int mask, int width = 32) {
  T all[32];
  pd_emu::warp_exchange(&v, sizeof(T), all);
  const int lane = pd_emu::lane_id(), src = lane ^ mask;
  return (src / width == lane / width) ? all[src] : v;
}
template <class T>
inline T __shfl_down_sync(unsigned, T v, unsigned delta, int width = 32) {
  T all[32];
  pd_emu::warp_exchange(&v, sizeof(T), all);
  const int lane = pd_emu::lane_id(), src = lane + (int)delta;
  return (src / width == lane / width && src < 32) ? all[src] : v;
}
template <class T>
inline T __shfl_up_sync(unsigned, T v, unsigned delta, int width = 32) {
  T all[32];
  pd_emu::warp_exchange(&v, sizeof(T), all);
  const int lane = pd_emu::lane_id(), src = lane - (int)delta;
  return (src >= 0 && src / width == lane / width) ? all[src] : v;
}
inline unsigned __ballot_sync(unsigned, int pred) {
  int all[32];
  pd_emu::warp_exchange(&pred, sizeof(int), all);
  unsigned bits = 0;
  for (int l = 0; l < 32; l++) bits |= (all[l] ? 1u : 0u) << l;
  return bits;
}
// Four signed bytes of a times four of b, plus c (the Q8 dot instruction).
inline int __dp4a(int a, int b, int c) {
  for (int i = 0; i < 4; i++) c += (int)(int8_t)(a >> (8 * i)) * (int)(int8_t)(b >> (8 * i));
  return c;
}
inline float __uint_as_float(unsigned u) { float f; std::memcpy(&f, &u, 4); return f; }
inline unsigned __float_as_uint(float f) { unsigned u; std::memcpy(&u, &f, 4); return u; }
inline float __int_as_float(int u) { float f; std::memcpy(&f, &u, 4); return f; }
inline int __float_as_int(float f) { int u; std::memcpy(&u, &f, 4); return u; }
inline int __popc(unsigned x) { return __builtin_popcount(x); }
template <class T>
inline T min(T a, T b) { return b < a ? b : a; }
template <class T>
inline T max(T a, T b) { return a < b ? b : a; }
inline int atomicMax(int* p, int v) { int old = *p; if (v > old) *p = v; return old; }
// One fiber runs at a time: a read-modify-write cannot be interleaved.
inline float atomicAdd(float* p, float v) { float old = *p; *p = old + v; return old; }
inline double atomicAdd(double* p, double v) { double old = *p; *p = old + v; return old; }
inline unsigned atomicAdd(unsigned* p, unsigned v) { unsigned old = *p; *p = old + v; return old; }
inline int atomicAdd(int* p, int v) { int old = *p; *p = old + v; return old; }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __fdividef(float a, float b) { return a / b; }
template <class T>
inline T __ldg(const T* p) { return *p; }

inline void pd_mma_16816_bf16(float d[4], const uint32_t a[4], const uint32_t b[2], const float c[4]) {
  pd_emu::mma_16816(d, a, b, c, /*bf16=*/true);
}
inline void pd_mma_16816_f16(float d[4], const uint32_t a[4], const uint32_t b[2], const float c[4]) {
  pd_emu::mma_16816(d, a, b, c, /*bf16=*/false);
}
inline void pd_ldmatrix_x1(uint32_t r[1], const void* row) { pd_emu::ldmatrix(r, 1, row, false); }
inline void pd_ldmatrix_x2(uint32_t r[2], const void* row) { pd_emu::ldmatrix(r, 2, row, false); }
inline void pd_ldmatrix_x4(uint32_t r[4], const void* row) { pd_emu::ldmatrix(r, 4, row, false); }
inline void pd_ldmatrix_x1_trans(uint32_t r[1], const void* row) { pd_emu::ldmatrix(r, 1, row, true); }
inline void pd_ldmatrix_x2_trans(uint32_t r[2], const void* row) { pd_emu::ldmatrix(r, 2, row, true); }
inline void pd_ldmatrix_x4_trans(uint32_t r[4], const void* row) { pd_emu::ldmatrix(r, 4, row, true); }
// The copy happens at once; the commit/wait pair keeps the kernel's shape (and its barriers).
inline void pd_cp_async_16(void* smem, const void* gmem, bool pred) {
  if (pred) std::memcpy(smem, gmem, 16); else std::memset(smem, 0, 16);
}
inline void pd_cp_async_commit() {}
template <int N>
inline void pd_cp_async_wait() {}

// A stream being captured into a graph records the launch with its arguments copied by value.
template <class... P, class... A>
inline void pd_launch(void (*kernel)(P...), dim3 grid, dim3 block, size_t smem, pd_stream_t stream, A... args) {
  pd_gpu::note_host_launch();
  if (pd_emu::capturing(stream)) {
    pd_emu::record(stream, grid, block, smem, [=]() { kernel(static_cast<P>(args)...); });
    return;
  }
  pd_emu::launch(grid, block, smem, [&]() { kernel(static_cast<P>(args)...); });
}

#else  // ---- the real device ----
#include <cuda_runtime.h>

#define PD_DYNAMIC_SMEM(T, name)                        \
  extern __shared__ __align__(16) unsigned char pd_dynamic_smem_[]; \
  T* name = reinterpret_cast<T*>(pd_dynamic_smem_)

__device__ __forceinline__ void pd_mma_16816_bf16(float d[4], const uint32_t a[4], const uint32_t b[2],
                                                  const float c[4]) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%10,%11,%12,%13};\n"
      : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(c[0]), "f"(c[1]), "f"(c[2]),
        "f"(c[3]));
}
__device__ __forceinline__ void pd_mma_16816_f16(float d[4], const uint32_t a[4], const uint32_t b[2],
                                                 const float c[4]) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%10,%11,%12,%13};\n"
      : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(c[0]), "f"(c[1]), "f"(c[2]),
        "f"(c[3]));
}
__device__ __forceinline__ uint32_t pd_smem_addr(const void* p) {
  return (uint32_t)__cvta_generic_to_shared(p);
}
__device__ __forceinline__ void pd_ldmatrix_x1(uint32_t r[1], const void* row) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x1.shared.b16 {%0}, [%1];\n" : "=r"(r[0]) : "r"(pd_smem_addr(row)));
}
__device__ __forceinline__ void pd_ldmatrix_x2(uint32_t r[2], const void* row) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0,%1}, [%2];\n"
               : "=r"(r[0]), "=r"(r[1]) : "r"(pd_smem_addr(row)));
}
__device__ __forceinline__ void pd_ldmatrix_x4(uint32_t r[4], const void* row) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(pd_smem_addr(row)));
}
__device__ __forceinline__ void pd_ldmatrix_x1_trans(uint32_t r[1], const void* row) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x1.trans.shared.b16 {%0}, [%1];\n" : "=r"(r[0]) : "r"(pd_smem_addr(row)));
}
__device__ __forceinline__ void pd_ldmatrix_x2_trans(uint32_t r[2], const void* row) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0,%1}, [%2];\n"
               : "=r"(r[0]), "=r"(r[1]) : "r"(pd_smem_addr(row)));
}
__device__ __forceinline__ void pd_ldmatrix_x4_trans(uint32_t r[4], const void* row) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(pd_smem_addr(row)));
}
// src-size 0 zero-fills the 16 bytes: out-of-bounds tiles read nothing.
__device__ __forceinline__ void pd_cp_async_16(void* smem, const void* gmem, bool pred) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(pd_smem_addr(smem)), "l"(gmem),
               "r"(pred ? 16 : 0));
}
__device__ __forceinline__ void pd_cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void pd_cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N)); }

template <class... P, class... A>
inline void pd_launch(void (*kernel)(P...), dim3 grid, dim3 block, size_t smem, pd_stream_t stream, A... args) {
  pd_gpu::note_host_launch();
  if (smem > 48 * 1024) cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
  kernel<<<grid, block, smem, stream>>>(static_cast<P>(args)...);
}
#endif

// ---- shared helpers (both modes) ----
__device__ __forceinline__ float pd_warp_sum(float v) {
  for (int m = 16; m > 0; m >>= 1) v += __shfl_xor_sync(0xffffffffu, v, m);
  return v;
}
__device__ __forceinline__ float pd_warp_max(float v) {
  for (int m = 16; m > 0; m >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, m));
  return v;
}
// Two bf16 (or f16) values packed in one 32-bit register, lo in the low half: the operand
// form of mma fragments.
__device__ __forceinline__ uint32_t pd_pack_bf16(float lo, float hi) {
  const pd_bf16 l = __float2bfloat16_rn(lo), h = __float2bfloat16_rn(hi);
  uint16_t a, b;
  std::memcpy(&a, &l, 2);
  std::memcpy(&b, &h, 2);
  return (uint32_t)a | ((uint32_t)b << 16);
}
__device__ __forceinline__ uint32_t pd_pack_f16(float lo, float hi) {
  const pd_half l = __float2half_rn(lo), h = __float2half_rn(hi);
  uint16_t a, b;
  std::memcpy(&a, &l, 2);
  std::memcpy(&b, &h, 2);
  return (uint32_t)a | ((uint32_t)b << 16);
}
__host__ __device__ __forceinline__ int64_t pd_ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
