// The linear maps of the GPU training graph, as train_linear.h on the CPU: y = x W^T +
// scale * (dropout(x) A^T) B^T forward, and backward dx (+)= dy W, dW += dy^T x (full
// fine-tuning), dB += dy^T z, dA += (scale dy B)^T dropout(x) (LoRA). Every product is a BF16
// tensor-core GEMM with F32 accumulation (gemm.h): activations and dy arrive in BF16, W is
// read in BF16 (a BF16 base or the trained values' BF16 mirror as is; any other base type is
// dequantized into one shared scratch right before its product: QLoRA never holds a
// dequantized model). Outputs and gradients are F32.
#pragma once

#include <cstdint>

#include "backend/cuda/cuda_train_params.h"
#include "backend/cuda/cuda_types.h"
#include "core/dtype.h"

namespace paddock {

// A weight matrix [rows = n_out][cols = n_in] on the device.
struct DeviceMatrix {
  DType type = DType::F32;   // file type of `data` (frozen base weights)
  const void* data = nullptr;
  const pd_bf16* bf16 = nullptr;  // set when the matrix is usable in BF16 as is
  int64_t rows = 0, cols = 0;
};

struct GpuLinear {
  DeviceMatrix w;
  int64_t n_in = 0, n_out = 0;
  int param = -1;              // full fine-tuning: DeviceParams index of W (dW goes to its grad)
  int lora_a = -1, lora_b = -1;  // LoRA: DeviceParams indices of A [rank, n_in] and B [n_out, rank]
  uint64_t dropout_stream = 0;   // layer * 8 + target, as on the CPU
};

// What every linear call of one row shares.
struct GpuLinearContext {
  const DeviceParams* params = nullptr;
  pd_stream_t stream = nullptr;
  pd_bf16* weight_scratch = nullptr;  // [largest matrix] BF16
  int64_t rank = 0;
  float lora_scale = 1.0f;
  float dropout = 0.0f;
  uint64_t dropout_seed = 0;
  pd_bf16* drop_x = nullptr;   // [T, max n_in] dropped-out input of A
  pd_bf16* dz = nullptr;       // [T, rank] scale * dy B
  float* lora_tmp = nullptr;   // [T, max n_in] dz A before the dropout mask (dropout only)
};

// W in BF16: the matrix itself when it is BF16, else dequantized / converted into the scratch.
const pd_bf16* weight_bf16(const GpuLinearContext& ctx, const DeviceMatrix& w);

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
