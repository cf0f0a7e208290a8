// The quantized-weight half of matmul (ops.h): W in a GGUF quant type, activations quantized
// once per call to the type's vec_dot_type, integer dots split over the pool by rows.
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace paddock {

class ThreadPool;

// y[t, r] = dot(W.row(r), x[t, :]) as matmul() documents, for dtype_is_quant_matrix(W.type).
void matmul_quant(ThreadPool* pool, const Tensor& W, const float* x, int64_t T, float* y);

// y[i][t, r] = dot(W[i]->row(r), x[t, :]) for i < n: several matrices over the same input
// (Q, K, V of a layer; gate and up). Every W[i] must be a quant matrix type with the same ne[0].
// The input is quantized once per distinct vec_dot_type and all matrices' rows run in one
// pool job (one barrier instead of n). Results are bit-identical to n matmul_quant calls.
void matmul_quant_group(ThreadPool* pool, const Tensor* const* W, float* const* y, int n, const float* x,
                        int64_t T);

}  // namespace paddock
