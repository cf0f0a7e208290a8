// A CUDA execution emulator for tests on machines without a GPU: a kernel launch runs every
// block in turn, and every thread of a block as a fiber (ucontext) on the calling thread.
// Fibers switch only at barriers (__syncthreads, warp syncs, warp exchanges), so shared memory
// is plain memory and atomics are plain read-modify-writes. Warp-collective instructions (shfl,
// ldmatrix, mma.sync) are computed from all 32 lanes' operands exactly as the PTX manual lays
// out their fragments, so a kernel's index arithmetic is checked without a GPU.
//
// It checks what a GPU would not report: a barrier some threads of a block never reach (with
// the others finished or waiting elsewhere) is a deadlock, and the launch aborts with the block
// and the threads' states. Test-only code: it is never part of the shipped module.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include <vector_types.h>

namespace pd_emu {

struct ThreadState {
  uint3 thread_idx;
  uint3 block_idx;
  dim3 block_dim;
  dim3 grid_dim;
  int linear = 0;  // threadIdx.x + threadIdx.y * blockDim.x + threadIdx.z * blockDim.x * blockDim.y
};

// The fiber running now (valid only inside a kernel).
const ThreadState& current();
inline int lane_id() { return current().linear & 31; }
void* dynamic_smem();

// Runs body() as every thread of every block of the grid; returns when all have finished.
void launch(dim3 grid, dim3 block, size_t dynamic_smem_bytes, const std::function<void()>& body);

void sync_block();
void sync_warp();
// Every lane of the warp passes `bytes` (<= 64) from `mine`; all_out receives the 32 lanes'
// values in lane order (all_out holds 32 * bytes).
void warp_exchange(const void* mine, size_t bytes, void* all_out);

// mma.sync.aligned.m16n8k16.row.col.f32.{bf16,f16}: this lane's four D elements.
void mma_16816(float d[4], const uint32_t a[4], const uint32_t b[2], const float c[4], bool bf16);
// ldmatrix.sync.aligned.m8n8.x{n}[.trans].b16: lanes 8i..8i+7 give the row addresses of
// matrix i; r[i] receives this lane's two elements of matrix i.
void ldmatrix(uint32_t* r, int n, const void* row_address, bool trans);

// Launches so far (tests check a path really ran a kernel); replayed graph kernels count too.
uint64_t launch_count();

// Graph capture (gpu_runtime.h graph_*): while `stream` captures, pd_launch on it records the
// launch (its arguments copied by value into body) instead of running it. end_capture returns
// the recorded launches as an opaque graph; replay runs them in order.
bool capturing(const void* stream);
void begin_capture(const void* stream);
void record(const void* stream, dim3 grid, dim3 block, size_t dynamic_smem_bytes, std::function<void()> body);
void* end_capture(const void* stream);
void replay(void* graph);
void destroy_graph(void* graph);

}  // namespace pd_emu
