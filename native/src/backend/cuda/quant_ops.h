// Quantized weights on the device, in GGUF's own block layouts (uploaded as they are in the
// file): matrix-vector products for decode (memory-bound: each weight byte read once per
// token), dequantization to BF16/F16 for the tensor-core GEMMs of prefill and QLoRA, and
// embedding rows. Types: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q5_K, Q6_K.
// Values are dequantized exactly as the CPU backend's reference dequantizers do (bit-identical
// floats), and products keep F32 activations, so results match the CPU's dequantized product
// up to float summation order. Buffers must be 16-byte aligned (device allocations are); a
// float-type matrix whose rows are not (cols % 4 != 0) takes a slower scalar path.
#pragma once

#include "backend/cuda/cuda_types.h"
#include "core/dtype.h"

namespace pd_cuda {

// True for the weight types the functions below accept.
bool quant_supported(paddock::DType t);

// Y[t][r] = dot(W row r, X[t]) for t < T, r < rows; W is [rows][cols] in type t (cols a
// multiple of its block size), X [T][cols] and Y [T][rows] F32. Meant for T <= 8 (decode, short
// chunks): each weight block is read once for all T activations (T > 8 runs in passes of 8).
// accumulate: Y += instead of =. Memory-bound; for long T use dequantize_rows and a GEMM.
void quant_matvec(paddock::DType t, const void* W, int64_t rows, int64_t cols, const float* X, int64_t T, float* Y,
                  bool accumulate, pd_stream_t s);

// The fused decode forms (cuda_forward's kMatvecTokens path). One product of a fused launch:
// Y [T][rows] = W [rows][cols] . X' (or Y += with accumulate: wo and down add straight into
// the residual stream).
struct MatvecOut {
  paddock::DType type;
  const void* W;
  int64_t rows;
  float* Y;
  bool accumulate = false;
};
// X' is X, or with norm_w (F32 [cols]) RMSNorm(X[t]) * norm_w exactly as backend/cpu/ops.h
// rmsnorm (eps), recomputed by every block from X: no normalised copy, no extra launch.
// Up to n products of the same X (q, k, v): consecutive products of one weight type share a
// launch, its blocks indexing their concatenated rows (so mixed types cost one launch a type).
void quant_matvec_multi(const MatvecOut* outs, int n, int64_t cols, const float* X, int64_t T, const float* norm_w,
                        float eps, pd_stream_t s);
// H [T][rows] = silu(gate . X') * (up . X') (ops.h silu_mul) in one launch; gate and up are
// [rows][cols] of the same type t. H must not alias X.
void quant_matvec_swiglu(paddock::DType t, const void* gate, const void* up, int64_t rows, int64_t cols, const float* X,
                         int64_t T, const float* norm_w, float eps, float* H, pd_stream_t s);

// out [rows][cols] in `out_type` (BF16 or F16) = W dequantized (rows [row0, row0 + rows) of W).
void dequantize_rows(paddock::DType t, const void* W, int64_t row0, int64_t rows, int64_t cols, Elem out_type,
                     void* out, pd_stream_t s);

// out[i] [cols] F32 = W row ids[i], i < n (embedding lookup; ids on the device, each in
// [0, rows of W): not checked on the device).
void get_rows_f32(paddock::DType t, const void* W, int64_t cols, const int32_t* ids, int64_t n, float* out,
                  pd_stream_t s);

// Bytes of one row of `cols` values in type t (times rows: what an upload of the matrix takes);
// 0 for an unsupported type or a cols that is not whole blocks.
size_t quant_row_bytes(paddock::DType t, int64_t cols);

}  // namespace pd_cuda
