// Glue kernels of the CUDA training session (cuda_train_session.h) that no op family owns: row
// gathers and scatters between a packed row and the classifier's rows that carry loss, the
// token-embedding gradient (full fine-tuning), and LoRA dropout with the CPU's hash mask
// (train_linear.cpp), so a GPU run draws exactly the masks a CPU run draws.
#pragma once

#include <vector>

#include "backend/cuda/cuda_types.h"

namespace pd_cuda {

// dst[i] = src[idx[i]] for i < n: rows of `width` 16-bit units (an F32 row is 2 * cols units),
// src rows `src_ld` units apart, dst rows packed. idx on the device.
void gather_rows_u16(const void* src, int64_t src_ld, const int32_t* idx, int64_t n, int64_t width, void* dst,
                     pd_stream_t s);

// dst[idx[i]] = src[i] for i < n (F32 rows of `width`); the other rows of dst are untouched.
void scatter_rows_f32(const float* src, const int32_t* idx, int64_t n, int64_t width, float* dst, pd_stream_t s);

// The positions of a row grouped by token id (CSR), built on the host where the tokens are
// known: ids[u] for u < unique (ascending), and the positions holding ids[u] in ascending
// order at positions[offsets[u] .. offsets[u + 1]).
struct TokenGroups {
  std::vector<int32_t> ids, offsets, positions;
  int64_t unique() const { return (int64_t)ids.size(); }
};
void group_tokens(const int32_t* tokens, int64_t T, TokenGroups* out);

// grad[ids[u]] += dx[p] for every position p of group u, in position order, rows of `dim` F32
// (group_tokens' arrays on the device; offsets has unique + 1 entries). One block per unique
// token and column range, each thread a column summing its token's rows in position order:
// parallel over tokens, deterministic without atomics, and bit-identical to adding the rows
// t = 0 .. T-1 one after the other.
void embedding_grad_add(float* grad, const float* dx, const int32_t* ids, const int32_t* offsets,
                        const int32_t* positions, int64_t unique, int64_t dim, pd_stream_t s);

// Inverted dropout with train_linear.cpp's keep rule for element (t, i) of map `stream`:
// out = keep ? x / (1 - p) : 0 over x [T][n] BF16 (A's forward input).
void lora_dropout_bf16(const pd_bf16* x, int64_t T, int64_t n, uint64_t seed, uint64_t stream, float p, pd_bf16* out,
                       pd_stream_t s);
// dx += keep ? g / (1 - p) : 0 over g [T][n] F32 (A's input gradient through the same mask).
void lora_dropout_add_f32(const float* g, int64_t T, int64_t n, uint64_t seed, uint64_t stream, float p, float* dx,
                          pd_stream_t s);

}  // namespace pd_cuda
