// Quantized weights on the device, in GGUF's own block layouts (uploaded as they are in the
// file): matrix-vector products for decode (memory-bound: each weight byte read once per
// token), dequantization to BF16/F16 for the tensor-core GEMMs of prefill and QLoRA, and
// embedding rows. Types: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K (Q4_1 and Q5_K where present).
#pragma once

#include "backend/cuda/cuda_types.h"
#include "core/dtype.h"

namespace pd_cuda {

// True for the weight types the functions below accept.
bool quant_supported(paddock::DType t);

// Y[t][r] = dot(W row r, X[t]) for t < T, r < rows; W is [rows][cols] in type t (cols a
// multiple of its block size), X [T][cols] and Y [T][rows] F32. Meant for T <= 8 (decode, short
// chunks): each weight block is read once for all T activations. accumulate: Y += instead of =.
void quant_matvec(paddock::DType t, const void* W, int64_t rows, int64_t cols, const float* X, int64_t T, float* Y,
                  bool accumulate, pd_stream_t s);

// out [rows][cols] in `out_type` (BF16 or F16) = W dequantized (rows [row0, row0 + rows) of W).
void dequantize_rows(paddock::DType t, const void* W, int64_t row0, int64_t rows, int64_t cols, Elem out_type,
                     void* out, pd_stream_t s);

// out[i] [cols] F32 = W row ids[i], i < n (embedding lookup; ids on the device).
void get_rows_f32(paddock::DType t, const void* W, int64_t cols, const int32_t* ids, int64_t n, float* out,
                  pd_stream_t s);

// Bytes of `rows` rows of `cols` values in type t (what an upload of the matrix takes).
size_t quant_row_bytes(paddock::DType t, int64_t cols);

}  // namespace pd_cuda
