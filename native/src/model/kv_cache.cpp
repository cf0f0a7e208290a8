#include "model/kv_cache.h"

#include <cstring>

#include "backend/cpu/kernels.h"

namespace paddock {

Status KvCache::init(const LlamaConfig& c, int64_t ctx, KvType t) {
  n_layers = c.n_layers;
  n_ctx = ctx;
  kv_dim = c.kv_dim();
  type = t;
  const size_t half = (size_t)(bytes_for(c, ctx, t) / 2);
  PD_TRY(k.allocate(half, "the KV cache (keys)"));
  PD_TRY(v.allocate(half, "the KV cache (values)"));
  return Status();
}

void KvCache::store(void* dst_row, const float* src, int64_t n) const {
  if (type == KvType::F32) {
    std::memcpy(dst_row, src, (size_t)(n * kv_dim) * sizeof(float));
  } else {
    cpu_kernels().f32_to_f16(src, (uint16_t*)dst_row, n * kv_dim);
  }
}

void KvCache::load(const void* src_row, float* dst, int64_t n) const {
  if (type == KvType::F32) {
    std::memcpy(dst, src_row, (size_t)(n * kv_dim) * sizeof(float));
  } else {
    cpu_kernels().f16_to_f32((const uint16_t*)src_row, dst, n * kv_dim);
  }
}

}  // namespace paddock
