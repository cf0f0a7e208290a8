// Glue kernels of the CUDA training session (cuda_train_session.h) that no op family owns: row
// gathers and scatters between a packed row and the classifier's rows that carry loss, the
// token-embedding gradient (full fine-tuning), and LoRA dropout with the CPU's hash mask
// (train_linear.cpp), so a GPU run draws exactly the masks a CPU run draws.
#pragma once

#include "backend/cuda/cuda_types.h"

namespace pd_cuda {

// dst[i] = src[idx[i]] for i < n: rows of `width` 16-bit units (an F32 row is 2 * cols units),
// src rows `src_ld` units apart, dst rows packed. idx on the device.
void gather_rows_u16(const void* src, int64_t src_ld, const int32_t* idx, int64_t n, int64_t width, void* dst,
                     pd_stream_t s);

// dst[idx[i]] = src[i] for i < n (F32 rows of `width`); the other rows of dst are untouched.
void scatter_rows_f32(const float* src, const int32_t* idx, int64_t n, int64_t width, float* dst, pd_stream_t s);

// grad[tokens[t]] += dx[t] for t < T, rows of `dim` F32: one thread per column walks the tokens
// in order, so repeated tokens add up deterministically without atomics.
void embedding_grad_add(float* grad, const float* dx, const int32_t* tokens, int64_t T, int64_t dim, pd_stream_t s);

// Inverted dropout with train_linear.cpp's keep rule for element (t, i) of map `stream`:
// out = keep ? x / (1 - p) : 0 over x [T][n] BF16 (A's forward input).
void lora_dropout_bf16(const pd_bf16* x, int64_t T, int64_t n, uint64_t seed, uint64_t stream, float p, pd_bf16* out,
                       pd_stream_t s);
// dx += keep ? g / (1 - p) : 0 over g [T][n] F32 (A's input gradient through the same mask).
void lora_dropout_add_f32(const float* g, int64_t T, int64_t n, uint64_t seed, uint64_t stream, float p, float* dx,
                          pd_stream_t s);

}  // namespace pd_cuda
