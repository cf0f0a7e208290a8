// The linear maps of the training graph, y = x W^T + scale * (dropout(x) A^T) B^T, forward and
// backward, over R = float (the CPU GEMMs: matmul/matmul_group for any weight type the forward
// runs, matmul_grad.h for the backward) or double (reference loops over F64 matrices, for the
// finite-difference and golden tests).
//
// Frozen weights (LoRA's base) get no weight gradient at all; in full fine-tuning `param`
// receives dW. LoRA dropout is inverted dropout on A's input whose mask is a hash of (seed,
// layer, target, token, column): backward regenerates it instead of storing it, and it does not
// depend on the thread count.
#pragma once

#include <cstdint>

#include "core/tensor.h"
#include "train/param_set.h"

namespace paddock {

class ThreadPool;

template <class R>
struct TrainLinear {
  Tensor w;                      // float: the base tensor (any type) or an F32 view of `param`; double: an F64 matrix
  ParamT<R>* param = nullptr;    // full fine-tuning: dW is added to param->grad
  ParamT<R>* lora_a = nullptr;   // LoRA [rank, n_in] (nullptr: this matrix is not adapted)
  ParamT<R>* lora_b = nullptr;   // LoRA [n_out, rank]
  Tensor a_view, b_view;         // F32 (float) / F64 (double) views over lora_a / lora_b values
  int64_t n_in = 0, n_out = 0;
  uint64_t dropout_stream = 0;   // layer * 8 + target: which dropout mask
};

// What every linear call of one row shares: the pool, the LoRA scale and dropout, and scratch
// of [T, max n_in] (dropped-out input), [T, max n_out] (B's product) and [T, rank] (dz).
template <class R>
struct LinearContext {
  ThreadPool* pool = nullptr;
  R lora_scale = R(1);
  float dropout = 0.0f;
  uint64_t dropout_seed = 0;
  R* drop_x = nullptr;
  R* tmp = nullptr;
  R* dz = nullptr;
};

// y[i] = linear_i(x) for i < n maps sharing the input x [T, n_in] (q/k/v; gate/up: one GEMM job
// in float). For LoRA maps, lora_saved[i] [T, rank] receives scale * dropout(x) A^T (backward's dB
// input); lora_saved may be nullptr when no map is adapted.
template <class R>
void linear_forward(const LinearContext<R>& ctx, const TrainLinear<R>* const* maps, R* const* y,
                    R* const* lora_saved, int n, const R* x, int64_t T);

// Backward of one map given dy [T, n_out]: dx [T, n_in] gets (accumulate: += , else =) dy W plus
// the LoRA path; param->grad += dy^T x (full); lora_b->grad += dy^T lora_saved and
// lora_a->grad += (scale dy B)^T dropout(x) (LoRA).
template <class R>
void linear_backward(const LinearContext<R>& ctx, const TrainLinear<R>& map, const R* x, const R* lora_saved,
                     const R* dy, int64_t T, R* dx, bool accumulate);

// The dense products both paths are made of (exposed for tests): y = x W^T, dx (+)= dy W,
// dW += dy^T x. Float calls matmul_group / matmul_grad.h; double loops over F64 tensors.
template <class R>
void dense_forward(ThreadPool* pool, const Tensor* const* W, R* const* y, int n, const R* x, int64_t T);
template <class R>
void dense_input_grad(ThreadPool* pool, const Tensor& W, const R* dy, int64_t T, R* dx, bool accumulate);
template <class R>
void dense_weight_grad(ThreadPool* pool, const R* dy, const R* x, int64_t T, int64_t n_out, int64_t n_in, R* dW);

}  // namespace paddock
