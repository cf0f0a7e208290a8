// The Llama forward pass over a chunk of tokens at consecutive positions (prefill when the
// chunk has several tokens, decode when it has one), reading and extending the KV cache.
#pragma once

#include <cstdint>

#include "core/buffer.h"
#include "model/kv_cache.h"
#include "model/model.h"

namespace paddock {

class ThreadPool;
class LoraStack;

// Activations for up to max_tokens tokens per chunk (shapes per field).
struct ForwardScratch {
  int64_t max_tokens = 0;
  int n_threads = 1;
  Buffer x;       // [T, dim]      residual stream
  Buffer xb;      // [T, dim]      normed input, then attention output
  Buffer xb2;     // [T, dim]      output of wo / w_down, added to x
  Buffer q;       // [T, dim]      queries (RoPE applied)
  Buffer kb;      // [T, kv_dim]   this chunk's keys (RoPE applied) before they enter the cache
  Buffer vb;      // [T, kv_dim]   this chunk's values
  Buffer hb;      // [T, hidden]   gate, then silu(gate) * up
  Buffer hb2;     // [T, hidden]   up
  Buffer att;     // [n_threads, n_ctx] attention weights, one row per thread
  Buffer rope;    // [T, head_dim] cos (first half) and sin (second half) per token
  Buffer logits;  // [vocab]

  Status init(const LlamaConfig& c, int64_t max_tokens, int64_t n_ctx, int n_threads);
};

// Runs tokens[0..T) at positions pos0..pos0+T-1 (T <= s.max_tokens, pos0 + T <= kv.n_ctx, ids
// valid: the caller checks). When `want_logits`, s.logits holds the last token's logits.
// `lora` (optional, model/lora_stack.h): adapters added to the targeted matrices' outputs;
// nullptr or an inactive stack costs one branch per matrix.
void llama_forward(const Model& m, ThreadPool& pool, KvCache& kv, ForwardScratch& s, const int32_t* tokens,
                   int64_t T, int64_t pos0, bool want_logits, LoraStack* lora = nullptr);

// The CPU part of a partial offload: the embeddings and layers [0, n_layers_run) only (kv holds
// at least those layers), leaving the complete residual stream of every token in s.x [T, dim]
// for the device to continue from (backend/gpu/gpu_backend.h GpuForward::forward's x_in).
void llama_forward_first_layers(const Model& m, ThreadPool& pool, KvCache& kv, ForwardScratch& s,
                                const int32_t* tokens, int64_t T, int64_t pos0, int64_t n_layers_run,
                                LoraStack* lora = nullptr);

}  // namespace paddock
