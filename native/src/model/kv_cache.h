// The KV cache: keys and values of every processed position, per layer, in F16 (default: half
// the memory and memory traffic of attention) or F32 (exact; the llama2.c reference path).
// Layout [layer][position][kv_dim], so a batch of new positions is one contiguous block.
#pragma once

#include <cstdint>

#include "core/buffer.h"
#include "model/llama_config.h"

namespace paddock {

enum class KvType { F16, F32 };

struct KvCache {
  int64_t n_layers = 0, n_ctx = 0, kv_dim = 0;
  KvType type = KvType::F16;
  Buffer k, v;

  Status init(const LlamaConfig& c, int64_t n_ctx, KvType type);
  // Keys and values together, for n_ctx positions of model c.
  static uint64_t bytes_for(const LlamaConfig& c, int64_t n_ctx, KvType type) {
    return 2ull * (uint64_t)c.n_layers * (uint64_t)n_ctx * (uint64_t)c.kv_dim() * (type == KvType::F16 ? 2u : 4u);
  }
  size_t elem_bytes() const { return type == KvType::F16 ? 2 : 4; }
  // Row `pos` of `layer` (F32 or F16 elements, per `type`).
  void* k_row(int64_t layer, int64_t pos) const { return (uint8_t*)k.data() + offset(layer, pos); }
  void* v_row(int64_t layer, int64_t pos) const { return (uint8_t*)v.data() + offset(layer, pos); }
  // Writes n rows of F32 keys or values (n * kv_dim floats) at `pos` (converting for F16).
  void store(void* dst_row, const float* src, int64_t n) const;
  // Reads n rows at `src_row` back as F32.
  void load(const void* src_row, float* dst, int64_t n) const;

 private:
  size_t offset(int64_t layer, int64_t pos) const { return (size_t)((layer * n_ctx + pos) * kv_dim) * elem_bytes(); }
};

}  // namespace paddock
