#include "model/kv_cache.h"

namespace paddock {

Status KvCache::init(const LlamaConfig& c, int64_t ctx) {
  n_layers = c.n_layers;
  n_ctx = ctx;
  kv_dim = c.kv_dim();
  const size_t bytes = (size_t)n_layers * (size_t)n_ctx * (size_t)kv_dim * sizeof(float);
  PD_TRY(k.allocate(bytes, "the KV cache (keys)"));
  PD_TRY(v.allocate(bytes, "the KV cache (values)"));
  return Status();
}

}  // namespace paddock
