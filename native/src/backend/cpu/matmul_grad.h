// The two GEMMs of a linear layer's backward (y = x W^T, W [n_out, n_in] as a GGML tensor):
//   input grad   dx = dy W        [T, n_in]  — through frozen or trained weights of any type the
//                                               forward runs (quantized rows are dequantized a
//                                               tile at a time, never as a whole matrix)
//   weight grad  dW += dy^T x     [n_out, n_in] F32 — for trained weights only
// Work is split statically over the pool, and each output element is summed in a fixed order
// by one thread, so results are bitwise reproducible for a given thread count. (That order does
// not depend on the thread count or the ISA table either, except that the portable fallback
// does not fuse multiply-adds: see matmul_grad_kernels.h.)
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace paddock {

class ThreadPool;

// dx[t, i] (+)= sum_o dy[t, o] * W[o, i] for t < T: dy is [T, W.ne[1]], dx is [T, W.ne[0]]
// (row-major). accumulate: add to dx instead of overwriting it.
void matmul_input_grad(ThreadPool* pool, const Tensor& W, const float* dy, int64_t T, float* dx, bool accumulate);

// dW[o, i] += sum_t dy[t, o] * x[t, i]: dy [T, n_out], x [T, n_in], dW [n_out, n_in] (all F32,
// row-major). Always accumulates (gradient accumulation over rows and micro-batches).
void matmul_weight_grad(ThreadPool* pool, const float* dy, const float* x, int64_t T, int64_t n_out, int64_t n_in,
                        float* dW);

}  // namespace paddock
