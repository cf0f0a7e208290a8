// How the device's products over frozen weights are cut up: a base that is not BF16 (quantized,
// F16) is dequantized one slab of rows at a time into a bounded BF16 scratch, never a whole matrix
// (DESIGN: "dequantize tile by tile"), by the training session (cuda_train_linear.h) and by chat's
// prefill (cuda_forward.cpp); LoRA's thin products split K (gemm_splitk.h).
#pragma once

#include <cstdint>

#include "backend/cuda/gemm_splitk.h"

namespace paddock {

// The bound on a BF16 dequantization slab, in elements (16 MiB), for training and chat's prefill
// alike: a slab of Llama-3.2-1B's widest rows (8192) is 1024 rows, enough output columns for a
// full wave of GEMM tiles at T = 1024, while the scratch stays ~1/8 of the 128 MiB a whole
// [8192 x 8192] BF16 copy of a 7B FFN matrix would take (and 1/32 of the 1B's tied classifier).
constexpr int64_t kWeightSlabElements = (int64_t)8 << 20;

// Rows of a [rows x cols] matrix per slab under a bound of `slab_elements`: a multiple of 128
// (whole large GEMM tiles) when at least 128 fit, else of 8 (slab offsets keep dy's and y's
// 16-byte alignment for the vector paths), never fewer than 8; at most `rows`.
int64_t weight_slab_rows(int64_t rows, int64_t cols, int64_t slab_elements);
// BF16 scratch elements the slabs of such a matrix need (0 for a matrix read as is).
inline int64_t weight_scratch_elements(int64_t rows, int64_t cols, int64_t slab_elements) {
  return weight_slab_rows(rows, cols, slab_elements) * cols;
}

// Process-wide tuning read when a GPU forward or training session is created. The defaults are the
// production values; tests shrink them so stories260K's small matrices take several slabs and its
// short rows split K.
struct ProductTuning {
  int64_t weight_slab_elements = kWeightSlabElements;
  int splitk_sm_count = 0;                  // 0: the device's SM count
  int64_t splitk_min_slice_k = pd_cuda::kSplitKMinSliceK;
};
ProductTuning& product_tuning();

}  // namespace paddock
