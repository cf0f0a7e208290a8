// Fused pointwise ops of the decode step (cuda_forward's kMatvecTokens path), each replacing
// several launches of pointwise_ops.h: the matrix products' fusions are quant_ops.h
// (quant_matvec_multi / _swiglu), attention's is attention.h attention_kv_decode.
// Per-token values (the position) are read on the device, so a captured graph replays them.
#pragma once

#include "backend/cuda/cuda_types.h"

namespace pd_cuda {

// For t < T, at cache row p = *pos0_dev + t: q[t] (n_heads heads) and k[t] (n_kv_heads heads)
// rotated as rope_forward does (table rope [T][hd]: cos, then sin), q in place; k rotated and
// v stored as F16 (round to nearest even, as convert) into k_cache / v_cache row p
// ([n_ctx][kv_dim], kv_dim = n_kv_heads * head_dim). k and v are only read. One launch
// instead of two ropes and two converts.
void rope_store_kv(float* q, const float* k, const float* v, int64_t T, int n_heads, int n_kv_heads, int head_dim,
                   const float* rope, const int32_t* pos0_dev, pd_half* k_cache, pd_half* v_cache, pd_stream_t s);

}  // namespace pd_cuda
