// Row-parallel matrix-vector (decode) and small-batch matrix-matrix (prefill) products with a
// quantized (or F16/F32) weight matrix W[rows][cols], rows stored contiguously as GGUF does.
//
// How a thread pool uses it (the activation is quantized once, not once per thread):
//   1. one thread (worker 0) calls quant_prepare_act(type, x, cols, n_act, scratch) with a
//      buffer of n_act * quant_act_row_size(type, cols) bytes;
//   2. barrier;
//   3. every worker t calls quant_matvec / quant_matmul on its own rows [row_begin, row_end),
//      e.g. [t*rows/T, (t+1)*rows/T), passing the same scratch (read-only from here on).
// Weights that share an input and a vec_dot_type (Q, K, V of one layer) share one scratch.
// Each output element is computed by one call with a fixed operation order, so results are
// bitwise independent of the thread count and of how rows are split.
#pragma once

#include <cstddef>

#include "quant_blocks.h"

namespace paddock::quant {

enum class QuantStatus : int {
  Ok = 0,
  UnsupportedType,  // no kernels for this type (or an activation-only type such as Q8_K)
  BadShape,         // cols not a positive multiple of the block size (32, or 256 for K-quants)
  BadRange,         // rows <= 0, n_act <= 0 or row range outside [0, rows]
  NullArgument,
};

const char* quant_status_message(QuantStatus s);

// Scratch bytes for one activation row: cols values in the weight type's vec_dot_type
// (Q8_0 / Q8_1 / Q8_K blocks; plain floats for F32/F16 weights). 0 if the shape is invalid.
size_t quant_act_row_size(QuantType weight_type, int cols);

// Quantizes n_act rows X[n_act][cols] into scratch, row after row.
QuantStatus quant_prepare_act(QuantType weight_type, const float* x, int cols, int n_act, void* scratch);

// y[r] = W[r] . x for r in [row_begin, row_end). y is the full output vector (indexed by r).
// scratch holds x prepared by quant_prepare_act; x itself is only read when scratch is null,
// in which case this call quantizes x itself (fine single-threaded; wasteful in a pool).
// packed: optional, W repacked by weight_repack.h (Tensor::packed); whole 16-row panels inside
// the range are then read from it (same bits), other rows from W. Ranges that start and end
// on multiples of 16 never touch W.
QuantStatus quant_matvec(QuantType type, const void* W, int rows, int cols, const float* x, float* y,
                         int row_begin, int row_end, const void* scratch, const void* packed = nullptr);

// Y[a][r] = W[r] . X[a] for a < n_act, r in [row_begin, row_end); Y is [n_act][rows].
// Where the ISA has a GEMM kernel (AVX-512 VNNI) and n_act >= 16 it runs that (weight panels
// repacked once per chunk of tokens); otherwise each weight block is unpacked once for up to
// kMaxBatch activation rows, row tiles sized to stay in L1. Every output is bit-identical to
// quant_matvec on that activation row. Same scratch rule as above (prepared with n_act rows).
// packed: as for quant_matvec (the GEMM path unpacks panels back to rows, a few at a time).
QuantStatus quant_matmul(QuantType type, const void* W, int rows, int cols, const float* X, int n_act,
                         float* Y, int row_begin, int row_end, const void* scratch, const void* packed = nullptr);

}  // namespace paddock::quant
