// Hopper's warpgroup tensor-core primitives (wgmma, sm_90a only), in the style of gpu_device.cuh:
// the real PTX under nvcc when compiling for sm_90a, the emulation (emu/wgmma_emu.h) under
// PADDOCK_CUDA_EMU. Only kernels of files named *wgmma*.cu use them: CMake compiles those for
// 90a-real alone (the PTX below exists only there), and the host dispatch calls them only on a
// sm_90 device whose start-up probe passed (probe.h: wgmma_enabled()).
//
//   PdSwizzle, pd_wgmma_desc(addr, lbo, sbo, swizzle): a shared-memory matrix descriptor
//   pd_wgmma_smem_addr(p): p's address in the shared window (what descriptors hold)
//   pd_fence_proxy_async_smem(): fence.proxy.async.shared::cta
//   pd_wgmma_fence / pd_wgmma_commit / pd_wgmma_wait<N>
//   pd_wgmma_m64k16<N, BF16, MN_A, MN_B>(d, desc_a, desc_b, accumulate):
//       wgmma.mma_async.sync.aligned.m64nNk16.f32.{bf16,f16}, A and B in shared memory, each
//       K-major (MN_x false, imm-trans 0) or MN-major (MN_x true, imm-trans 1)
//
// Layout facts (PTX ISA, "Asynchronous Warpgroup Level Matrix Instructions"):
// - "Matrix Descriptor Format": a 64-bit value; bits 0-13 start address >> 4, bits 16-29 leading
//   dimension byte offset (LBO) >> 4, bits 32-45 stride dimension byte offset (SBO) >> 4, bits
//   49-51 matrix base offset (0 when the swizzle pattern starts at its natural alignment), bits
//   62-63 swizzle mode (0 none, 1 128-byte, 2 64-byte, 3 32-byte).
// - "Shared Memory Matrix Layout": imm-trans-a/b = 0 selects a K-major A/B, 1 an M-major A / an
//   N-major B (16-bit types only). In units of 16 bytes (8 elements), a matrix is made of
//   "swizzle atoms": K-major, 8 rows (M/N) x S/16 units (K); MN-major, S/16 units (M/N) x 8 rows
//   (K); S = 128, 64, 32 for the swizzles, and 16 (one unit, a "core matrix") without. A row is
//   S bytes, the 8 rows of an atom are contiguous (S bytes apart), and the 16-byte unit index
//   (address bits 4..) is XORed with address bits 7.. (log2(S/16) bits): the swizzle acts on the
//   address, which is why a 128-byte-swizzled tile starts on a 1024-byte boundary.
//   K-major: atoms adjacent in M/N are SBO apart; with a swizzle the instruction's K (32 bytes)
//   lies inside a row (LBO unused, a k16 step is +32 bytes on the start address); without one,
//   core matrices adjacent in K are LBO apart.
//   MN-major: with a swizzle, atoms adjacent in M/N (S/2 elements) are LBO apart and those
//   adjacent in K (8 rows) SBO apart (a k16 step is + 2 SBO); without one, core matrices
//   adjacent in M/N are SBO apart and those adjacent in K LBO apart.
// - "Register Fragments" for D (m64nNk16, F32): warp w of the warpgroup holds rows 16w..16w+15;
//   lane l (g = l / 4, q = l % 4) holds d[4j + 0..1] = (16w + g, 8j + 2q + 0..1) and
//   d[4j + 2..3] = (16w + g + 8, same columns), j = 0 .. N/8 - 1: mma.m16n8's D repeated over N.
// - wgmma.fence before the first mma_async (and whenever the accumulators were touched by other
//   instructions); commit_group closes the issued ops into a group; wait_group N returns when at
//   most N groups are pending. The accumulators and the shared operands must not be touched
//   while their group is pending (the emulator defers the math to wait_group to catch that).
#pragma once

#include <cstdint>

#include "backend/cuda/gpu_device.cuh"

#if defined(PADDOCK_CUDA_EMU)
#include "backend/cuda/emu/wgmma_emu.h"
#endif

enum class PdSwizzle : uint32_t { None = 0, B128 = 1, B64 = 2, B32 = 3 };

// An operand descriptor: smem_addr is the matrix's first byte in the shared window (16-byte
// aligned), lbo/sbo in bytes (multiples of 16; their meaning depends on the operand's major-ness
// and the swizzle, see the layout facts above).
__host__ __device__ __forceinline__ uint64_t pd_wgmma_desc(uint32_t smem_addr, uint32_t lbo, uint32_t sbo,
                                                           PdSwizzle swizzle) {
  return (uint64_t)((smem_addr >> 4) & 0x3FFFu) | ((uint64_t)((lbo >> 4) & 0x3FFFu) << 16) |
         ((uint64_t)((sbo >> 4) & 0x3FFFu) << 32) | ((uint64_t)swizzle << 62);
}

#if defined(PADDOCK_CUDA_EMU)

// The emulator's shared window is the block's dynamic shared memory (operands must live there).
inline uint32_t pd_wgmma_smem_addr(const void* p) { return pd_emu::wgmma_smem_address(p); }
inline void pd_fence_proxy_async_smem() {}  // one fiber at a time: writes are visible at once
inline void pd_wgmma_fence() {}
inline void pd_wgmma_commit() { pd_emu::wgmma_commit(); }
template <int N>
inline void pd_wgmma_wait() { pd_emu::wgmma_wait(N); }
template <int N, bool BF16, bool MN_A = false, bool MN_B = false>
inline void pd_wgmma_m64k16(float (&d)[N / 2], uint64_t desc_a, uint64_t desc_b, bool accumulate) {
  static_assert(N == 64 || N == 128, "instantiate the shapes the real path implements");
  pd_emu::wgmma_mma_async(d, N, desc_a, desc_b, accumulate, BF16, MN_A, MN_B);
}

#else  // ---- the real device ----

// The PTX exists for sm_90a only; another architecture's pass (never launched: the kernels are
// built for 90a-real) gets a trap instead of an assembler error.
#if defined(__CUDA_ARCH__) && !defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define PD_WGMMA_PTX(...) __trap()
#else
#define PD_WGMMA_PTX(...) __VA_ARGS__
#endif

__device__ __forceinline__ uint32_t pd_wgmma_smem_addr(const void* p) {
  return (uint32_t)__cvta_generic_to_shared(p);
}
// Shared memory written through the generic proxy (st.shared, cp.async) is read by wgmma through
// the async proxy: each writing thread fences before the barrier that publishes the tile.
__device__ __forceinline__ void pd_fence_proxy_async_smem() {
  PD_WGMMA_PTX(asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory"));
}
__device__ __forceinline__ void pd_wgmma_fence() { PD_WGMMA_PTX(asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory")); }
__device__ __forceinline__ void pd_wgmma_commit() {
  PD_WGMMA_PTX(asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"));
}
template <int N>
__device__ __forceinline__ void pd_wgmma_wait() {
  PD_WGMMA_PTX(asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory"));
}

#define PD_WG_F8(d, i)                                                                                 \
  "+f"(d[i]), "+f"(d[i + 1]), "+f"(d[i + 2]), "+f"(d[i + 3]), "+f"(d[i + 4]), "+f"(d[i + 5]), "+f"(d[i + 6]), \
      "+f"(d[i + 7])
#define PD_WG_F32(d, i) PD_WG_F8(d, i), PD_WG_F8(d, i + 8), PD_WG_F8(d, i + 16), PD_WG_F8(d, i + 24)
#define PD_WG_REGS32 \
  "%0,%1,%2,%3,%4,%5,%6,%7,%8,%9,%10,%11,%12,%13,%14,%15,%16,%17,%18,%19,%20,%21,%22,%23,%24,%25,%26,%27,%28,%29,%30,%31"
#define PD_WG_REGS64                                                                                       \
  PD_WG_REGS32 ",%32,%33,%34,%35,%36,%37,%38,%39,%40,%41,%42,%43,%44,%45,%46,%47,%48,%49,%50,%51,%52,%53,%54,%55," \
               "%56,%57,%58,%59,%60,%61,%62,%63"
// scale-d is a predicate: false computes D = A B (the accumulators' old values are ignored).
// Scale-a/b 1 (no negation); imm-trans-a/b are immediates ("n") from the template arguments.
#define PD_WGMMA_ASM(SHAPE, TYPE, REGS, A, B, SCALE, TA, TB, ...)                                          \
  asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %" SCALE ", 0;\nwgmma.mma_async.sync.aligned." SHAPE       \
               ".f32." TYPE "." TYPE " {" REGS "}, %" A ", %" B ", p, 1, 1, %" TA ", %" TB ";\n}\n"          \
               : __VA_ARGS__                                                                                \
               : "l"(desc_a), "l"(desc_b), "r"((int)accumulate), "n"((int)MN_A), "n"((int)MN_B))

template <int N, bool BF16, bool MN_A = false, bool MN_B = false>
__device__ __forceinline__ void pd_wgmma_m64k16(float (&d)[N / 2], uint64_t desc_a, uint64_t desc_b, bool accumulate) {
  static_assert(N == 64 || N == 128, "m64n64k16 and m64n128k16 are implemented");
  if constexpr (N == 64) {
    if constexpr (BF16)
      PD_WGMMA_PTX(PD_WGMMA_ASM("m64n64k16", "bf16", PD_WG_REGS32, "32", "33", "34", "35", "36", PD_WG_F32(d, 0)));
    else
      PD_WGMMA_PTX(PD_WGMMA_ASM("m64n64k16", "f16", PD_WG_REGS32, "32", "33", "34", "35", "36", PD_WG_F32(d, 0)));
  } else {
    if constexpr (BF16)
      PD_WGMMA_PTX(PD_WGMMA_ASM("m64n128k16", "bf16", PD_WG_REGS64, "64", "65", "66", "67", "68", PD_WG_F32(d, 0),
                                PD_WG_F32(d, 32)));
    else
      PD_WGMMA_PTX(PD_WGMMA_ASM("m64n128k16", "f16", PD_WG_REGS64, "64", "65", "66", "67", "68", PD_WG_F32(d, 0),
                                PD_WG_F32(d, 32)));
  }
}

#undef PD_WGMMA_ASM
#undef PD_WG_REGS64
#undef PD_WG_REGS32
#undef PD_WG_F32
#undef PD_WG_F8
#undef PD_WGMMA_PTX
#endif
