// Reference CPU ops of the Llama forward, on float rows. Numerics follow llama2.c's run.c
// (float accumulation in the same order) so greedy text matches it token for token.
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace paddock {

class ThreadPool;

// out = w * x / sqrt(mean(x^2) + eps)
void rmsnorm(float* out, const float* x, const float* w, int64_t n, float eps);
// In place, numerically stable (max subtracted).
void softmax(float* x, int64_t n);
// gate = silu(gate) * up
void silu_mul(float* gate, const float* up, int64_t n);

// RoPE angles for one position: for pair i of a head (dims 2i, 2i+1),
// angle = (pos / linear_factor) * theta^(-2i/head_dim) / factor[i] (factors: Llama 3.1
// rope_freqs, or nullptr; linear_factor: "linear" scaling, 1 for none). pos may be negative
// (a rotation back by |pos|, for the KV cache shift).
void rope_angles(int64_t pos, int head_dim, float theta, const float* freq_factors, float linear_factor,
                 float* cos_out, float* sin_out);
// Rotates interleaved pairs (x[2i], x[2i+1]) of each of n_heads heads (Meta / GGUF llama layout).
// R: float (inference, training) or double (the training graph's reference instantiation).
template <class R>
void rope_apply(R* x, int n_heads, int head_dim, const R* cos_v, const R* sin_v);

// Weight types the CPU matmul runs besides F32/F16/BF16: GGUF quant blocks with an integer dot
// kernel (Q8_0, Q4_0, Q4_1, Q4_K, Q5_K, Q6_K). Rows must be a multiple of dtype_block_size.
bool dtype_is_quant_matrix(DType t);
int64_t dtype_block_size(DType t);

// y[t, r] = dot(W.row(r), x[t, :]) for t < n_tokens: x is [n_tokens, W.ne[0]], y is
// [n_tokens, W.ne[1]] (both row-major). W is F32, F16, BF16 or a quant type
// (dtype_is_quant_matrix): then x is quantized once per row to 8 bits per block and the dots
// are integer (quant_matvec / quant_matmul). Rows are split statically over the
// pool when the job is big enough; each row's dot is one thread's, so results do not depend on
// the thread count.
void matmul(ThreadPool* pool, const Tensor& W, const float* x, int64_t n_tokens, float* y);
// y[i] = matmul(W[i], x) for i < n, matrices sharing one input (Q/K/V; gate/up) in one pool job
// (one barrier instead of n). Same results as n matmul calls; quant weights go to
// matmul_quant_group.
void matmul_group(ThreadPool* pool, const Tensor* const* W, float* const* y, int n, const float* x, int64_t T);

// Row `row` of a matrix (embedding lookup), converted or dequantized to float.
void get_row_f32(const Tensor& W, int64_t row, float* out);
// The inverse, for writers: n floats converted (F32/F16/BF16) or quantized into type t with the
// scalar reference quantizers (the bytes llama.cpp's quantizer writes). False for a type without
// a quantizer or an n that is not a multiple of its block.
bool row_from_f32(DType t, const float* x, void* out, int64_t n);

}  // namespace paddock
