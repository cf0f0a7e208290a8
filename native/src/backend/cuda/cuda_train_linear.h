// The linear maps of the GPU training graph, as train_linear.h on the CPU: y = x W^T +
// scale * (dropout(x) A^T) B^T forward, and backward dx (+)= dy W, dW += dy^T x (full
// fine-tuning), dB += dy^T z, dA += (scale dy B)^T dropout(x) (LoRA). Every product is a BF16
// tensor-core GEMM with F32 accumulation (gemm.h): activations and dy arrive in BF16, W is
// read in BF16 (a BF16 base or the trained values' BF16 mirror as is). Any other base type
// (QLoRA's quantized base, an F16 file) is dequantized a slab of rows at a time into one
// bounded scratch right before the slab's product (DESIGN: "dequantize tile by tile, never the
// whole matrix"): x W^T is one GEMM per slab of output columns, dy W a K-split over the slabs
// accumulating into dx. The LoRA rank products (thin outputs, K = T or n) run split-K
// (gemm_splitk.h) when their tiles would leave SMs idle. Outputs and gradients are F32.
#pragma once

#include <cstdint>

#include "backend/cuda/cuda_train_params.h"
#include "backend/cuda/cuda_types.h"
#include "backend/cuda/gemm_splitk.h"
#include "backend/cuda/product_tuning.h"
#include "core/dtype.h"

namespace paddock {

// A weight matrix [rows = n_out][cols = n_in] on the device, as the trainer reads it (the
// inference side has its own DeviceMatrix in cuda_weights.h, tied to its host tensor).
struct TrainMatrix {
  DType type = DType::F32;   // file type of `data` (frozen base weights)
  const void* data = nullptr;
  const pd_bf16* bf16 = nullptr;  // set when the matrix is usable in BF16 as is
  int64_t rows = 0, cols = 0;
};

struct GpuLinear {
  TrainMatrix w;
  int64_t n_in = 0, n_out = 0;
  int param = -1;              // full fine-tuning: DeviceParams index of W (dW goes to its grad)
  int lora_a = -1, lora_b = -1;  // LoRA: DeviceParams indices of A [rank, n_in] and B [n_out, rank]
  uint64_t dropout_stream = 0;   // layer * 8 + target, as on the CPU
};

// The scratch and which slab it holds: frozen bases never change on the device, so a slab that
// is still there (the classifier's chunks, a matrix that fits in one slab) is not dequantized
// again. Stream order makes the reuse safe: every product runs on the one session stream.
struct WeightScratch {
  pd_bf16* data = nullptr;
  int64_t slab_elements = kWeightSlabElements;
  const void* held = nullptr;
  int64_t held_row0 = 0, held_rows = 0;
  uint64_t dequantized_slabs = 0;  // slabs dequantized so far (tests, benchmarks)
};

// What every linear call of one row shares.
struct GpuLinearContext {
  const DeviceParams* params = nullptr;
  pd_stream_t stream = nullptr;
  WeightScratch* weights = nullptr;   // dequantization slabs of non-BF16 base matrices
  float* splitk = nullptr;            // split-K workspace of the rank products
  int64_t splitk_elements = 0;
  int splitk_sm_count = 1;
  int64_t splitk_min_slice_k = pd_cuda::kSplitKMinSliceK;
  int64_t rank = 0;
  float lora_scale = 1.0f;
  float dropout = 0.0f;
  uint64_t dropout_seed = 0;
  pd_bf16* drop_x = nullptr;   // [T, max n_in] dropped-out input of A
  pd_bf16* dz = nullptr;       // [T, rank] scale * dy B
  float* lora_tmp = nullptr;   // [T, max n_in] dz A before the dropout mask (dropout only)
};

// y [T, w.rows] (row stride ldy) = x W^T (+ y when accumulate), x [T, w.cols] BF16.
void weight_product_nt(const GpuLinearContext& ctx, const TrainMatrix& w, const pd_bf16* x, int64_t T, float* y,
                       int64_t ldy, bool accumulate);
// dx [T, w.cols] = dy W (+ dx when accumulate), dy [T, w.rows] BF16 with row stride lddy.
void weight_product_nn(const GpuLinearContext& ctx, const TrainMatrix& w, const pd_bf16* dy, int64_t lddy, int64_t T,
                       float* dx, bool accumulate);

// C [M, N] (ldc) = alpha op(A) op(B) + beta C over BF16 A and B (gemm.h's layouts).
void gemm_bf16(pd_stream_t s, int op, int64_t M, int64_t N, int64_t K, const pd_bf16* A, int64_t lda,
               const pd_bf16* B, int64_t ldb, void* C, bool c_bf16, int64_t ldc, float alpha, float beta);

// y [T, n_out] F32 = x W^T + LoRA; z_saved [T, rank] BF16 receives scale * dropout(x) A^T.
void linear_forward(const GpuLinearContext& ctx, const GpuLinear& m, const pd_bf16* x, int64_t T, float* y,
                    pd_bf16* z_saved);
// dy [T, n_out] BF16; dx [T, n_in] F32 (= or += with accumulate); gradients added to params.
void linear_backward(const GpuLinearContext& ctx, const GpuLinear& m, const pd_bf16* x, const pd_bf16* z_saved,
                     const pd_bf16* dy, int64_t T, float* dx, bool accumulate);

}  // namespace paddock
