// Attention on the device, never materialising a T x T score matrix (flash-attention style:
// online softmax over key tiles). GQA: query head h reads kv head h / (n_heads / n_kv_heads).
// Kernels: attention_kv.cu (inference: SIMT flash-decoding; prefill chunks on tensor cores),
// attention_flash_fwd.cu and attention_flash_bwd.cu (training; tensor cores for head_dim 64 /
// 128, SIMT otherwise: attention_flash_bwd_simt.cu); shared device pieces in
// attention_fwd_mma.cuh (the tensor-core forward) and attention_tiles.cuh.
#pragma once

#include "backend/cuda/cuda_types.h"

namespace pd_cuda {

struct AttnDims {
  int64_t T = 0;             // tokens (queries)
  int n_heads = 0, n_kv_heads = 0, head_dim = 0;   // head_dim <= 256; any value (8 for stories260K)
  float scale = 0.0f;        // usually 1 / sqrt(head_dim)
};

// Inference over the KV cache: query t (t < T) is at position pos0 + t and attends cache
// positions 0..pos0+t. q [T][n_heads * hd] F32; the cache layer's k and v are F16
// [n_ctx][kv_dim] (kv_dim = n_kv_heads * hd, row stride kv_dim); out [T][n_heads * hd] F32.
// Decode (T = 1) and short prefills split long contexts over blocks and merge the partial
// softmaxes through a scratch buffer this module owns (grown on first need, which waits for the
// device): calls must not overlap on two streams. scale is applied to q . k.
void attention_kv(const AttnDims& d, const float* q, const pd_half* k_cache, const pd_half* v_cache, int64_t pos0,
                  float* out, pd_stream_t s);

// The same for decode steps replayed as a CUDA graph (kernel arguments frozen): pos0 is read on
// the device from *pos0_dev, and the launch (split count, chunk) depends only on n_ctx, the
// most positions the cache holds. scratch: attention_kv_decode_scratch_bytes(d, n_ctx) bytes
// of device memory owned by the caller (a bound for any T' <= d.T), so nothing is allocated
// while a stream is being captured.
void attention_kv_decode(const AttnDims& d, const float* q, const pd_half* k_cache, const pd_half* v_cache,
                         const int32_t* pos0_dev, int64_t n_ctx, void* scratch, float* out, pd_stream_t s);
size_t attention_kv_decode_scratch_bytes(const AttnDims& d, int64_t n_ctx);

// Training forward over a packed row: token t attends s in [seg_start[t], t] (segments are
// the packed samples, contiguous: seg_start is nondecreasing with seg_start[t] <= t, as the
// training rows build it; the kernels skip key / query tiles by it; on the device).
// q [T][H*hd], k, v [T][Hkv*hd], out [T][H*hd] BF16; lse [T][H] F32 (log-sum-exp of each
// scaled score row, kept for backward).
void flash_attention_forward(const AttnDims& d, const pd_bf16* q, const pd_bf16* k, const pd_bf16* v,
                             const int32_t* seg_start, pd_bf16* out, float* lse, pd_stream_t s);

// Backward: dq [T][H*hd], dk, dv [T][Hkv*hd] F32, overwritten (deterministic: no atomics;
// a dq pass over query tiles and a dk/dv pass over key tiles summing the GQA group's heads).
// `workspace` holds flash_attention_workspace_bytes(d) bytes of device memory (the row sums of
// dout * out, [T][H] F32). `out` and `lse` are the forward's.
size_t flash_attention_workspace_bytes(const AttnDims& d);
void flash_attention_backward(const AttnDims& d, const pd_bf16* q, const pd_bf16* k, const pd_bf16* v,
                              const int32_t* seg_start, const pd_bf16* out, const float* lse, const pd_bf16* dout,
                              float* dq, float* dk, float* dv, void* workspace, pd_stream_t s);

}  // namespace pd_cuda
