// Deterministic split-K for thin products: outputs too small to fill the device's SMs with
// tiles while K is long (LoRA's rank products, e.g. dA [r = 16, n_in] += dz^T x with K = T:
// 32 output tiles of 64x64 on an H100's 132 SMs). K is cut into S slices; slice s is one
// ordinary gemm() of K range [s * Ks, (s + 1) * Ks) into its own F32 workspace slab
// [M][N], then one reduce kernel sums the S slabs in slice order and applies alpha / beta
// into C. No atomics: for a given S the result is bitwise reproducible run to run (it differs
// from the unsplit product only by F32 summation order).
#pragma once

#include "backend/cuda/gemm.h"

namespace pd_cuda {

// At most this many slices: beyond 8 the reduce's extra traffic (S x M x N F32 written and
// read back) stops paying for the added parallelism on the thin shapes training has.
constexpr int kSplitKMaxSlices = 8;
// A slice keeps at least this much K: shorter slices spend more on the pipeline's fill and
// the epilogue than on the mma loop (4 k-tiles of 32).
constexpr int64_t kSplitKMinSliceK = 128;

// F32 elements of workspace a split of [M, N] into at most kSplitKMaxSlices slices needs.
inline int64_t splitk_workspace_elements(int64_t M, int64_t N) { return (int64_t)kSplitKMaxSlices * M * N; }

// Slices for d on a device of `sm_count` SMs: 1 (no split) when the 64x64 output tiles
// already cover every SM once or K is short; else enough to fill them, capped by
// kSplitKMaxSlices, K / min_slice_k and what `workspace_elements` can hold.
int splitk_slices(const GemmDesc& d, int sm_count, int64_t workspace_elements,
                  int64_t min_slice_k = kSplitKMinSliceK);

// C = alpha op(A) op(B) + beta C in `slices` K slices (gemm.h's layouts and types; BF16/F16
// operands). workspace: slices * M * N F32 on the device. slices <= 1 runs gemm() itself.
void gemm_splitk(const GemmDesc& d, int slices, float* workspace, pd_stream_t s);

}  // namespace pd_cuda
