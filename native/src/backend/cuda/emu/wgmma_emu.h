// The emulation of Hopper's wgmma (gpu_wgmma.cuh under PADDOCK_CUDA_EMU). A warpgroup is 128
// consecutive threads of the block (linear index / 128); since A and B come from shared memory,
// each thread computes its own accumulator fragment elements from the operands the descriptors
// describe, decoded as the PTX ISA defines the K-major and MN-major (transposed) layouts (see
// gpu_wgmma.cuh).
//
// The math is deferred like the hardware's: mma_async records a pending op for the calling
// thread, commit closes the open ops into a group, wait(n) computes every group but the newest n,
// reading shared memory and the accumulators *then*. A kernel that overwrites an operand tile or
// reads its accumulators before waiting gets the wrong product here, as it could on a GPU.
// Test-only code.
#pragma once

#include <cstdint>

namespace pd_emu {

// p's offset in the block's dynamic shared memory: the emulated shared window starts there at
// address 0 (so a 1024-byte-aligned offset is aligned for every swizzle). Aborts when p lies
// outside it or beyond the descriptors' 18-bit address range.
uint32_t wgmma_smem_address(const void* p);

// The shared-window byte address of element (row, k) of an operand described by desc (row: M for
// A, N for B; k < 16; elem_bytes 2), K-major or MN-major (the instruction's imm-trans bit). The
// layout decoding, exposed for unit tests.
uint32_t wgmma_element_address(uint64_t desc, int row, int k, int elem_bytes, bool mn_major);

// wgmma.mma_async m64nNk16 F32 += {bf16,f16}: d is this thread's N/2 accumulators (they must
// stay alive until the wait that completes the op); mn_a / mn_b: imm-trans-a / imm-trans-b.
void wgmma_mma_async(float* d, int n, uint64_t desc_a, uint64_t desc_b, bool accumulate, bool bf16, bool mn_a,
                     bool mn_b);
void wgmma_commit();
void wgmma_wait(int pending_groups);

}  // namespace pd_emu
