// The quantized-weight half of matmul (ops.h): W in a GGUF quant type, activations quantized
// once per call to the type's vec_dot_type, integer dots split over the pool by rows.
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace paddock {

class ThreadPool;

// y[t, r] = dot(W.row(r), x[t, :]) as matmul() documents, for dtype_is_quant_matrix(W.type).
void matmul_quant(ThreadPool* pool, const Tensor& W, const float* x, int64_t T, float* y);

}  // namespace paddock
