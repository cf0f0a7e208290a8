// The KV cache: keys and values of every processed position, per layer, in F32.
// Layout [layer][position][kv_dim], so a batch of new positions is one contiguous block that
// the K/V projections write into directly.
#pragma once

#include <cstdint>

#include "core/buffer.h"
#include "model/llama_config.h"

namespace paddock {

struct KvCache {
  int64_t n_layers = 0, n_ctx = 0, kv_dim = 0;
  Buffer k, v;

  Status init(const LlamaConfig& c, int64_t n_ctx);
  float* k_at(int64_t layer, int64_t pos) const { return k.f32() + (layer * n_ctx + pos) * kv_dim; }
  float* v_at(int64_t layer, int64_t pos) const { return v.f32() + (layer * n_ctx + pos) * kv_dim; }
};

}  // namespace paddock
