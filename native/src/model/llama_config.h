// Hyperparameters of a Llama-family model (the llama.* keys of GGUF, llama2.c's header).
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace paddock {

struct LlamaConfig {
  int64_t dim = 0;             // embedding_length
  int64_t hidden_dim = 0;      // feed_forward_length
  int64_t n_layers = 0;        // block_count
  int64_t n_heads = 0;         // attention.head_count
  int64_t n_kv_heads = 0;      // attention.head_count_kv (grouped-query attention when < n_heads)
  int64_t vocab_size = 0;
  int64_t context_length = 0;  // the context the model was trained for
  float rope_theta = 10000.0f;
  // RoPE "linear" scaling (position interpolation): positions are divided by this factor.
  // Llama 3.1 "llama3" scaling is per-frequency instead and travels as weights.rope_freqs.
  float rope_linear_factor = 1.0f;
  float rms_eps = 1e-5f;
  bool tied_embeddings = true;  // classifier shares token_embd

  int64_t head_dim() const { return n_heads > 0 ? dim / n_heads : 0; }
  int64_t kv_dim() const { return head_dim() * n_kv_heads; }

  // BAD_MODEL_FILE naming `source` when a value is impossible or absurd; bounds keep a mutated
  // header from ever sizing gigantic buffers.
  Status validate(const std::string& source) const;
};

}  // namespace paddock
