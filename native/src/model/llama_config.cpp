#include "model/llama_config.h"

#include <cmath>

namespace paddock {

Status LlamaConfig::validate(const std::string& source) const {
  const char* src = source.c_str();
  struct Range {
    const char* name;
    int64_t value, lo, hi;
  } ranges[] = {
      {"embedding length (dim)", dim, 1, 1 << 16},
      {"feed-forward length", hidden_dim, 1, 1 << 20},
      {"layer count", n_layers, 1, 1024},
      {"head count", n_heads, 1, 1024},
      {"kv head count", n_kv_heads, 1, 1024},
      {"vocabulary size", vocab_size, 1, 1 << 22},
      {"context length", context_length, 1, 1 << 24},
  };
  for (const Range& r : ranges) {
    if (r.value < r.lo || r.value > r.hi) {
      return PD_ERROR(BadModelFile, "%s: expected the %s to be in %lld..%lld, found %lld", src, r.name,
                      (long long)r.lo, (long long)r.hi, (long long)r.value);
    }
  }
  if (dim % n_heads != 0 || head_dim() % 2 != 0) {
    return PD_ERROR(BadModelFile, "%s: dim=%lld must split into %lld heads of an even size", src, (long long)dim,
                    (long long)n_heads);
  }
  if (n_kv_heads > n_heads || n_heads % n_kv_heads != 0) {
    return PD_ERROR(BadModelFile, "%s: head count %lld must be a multiple of the kv head count %lld", src,
                    (long long)n_heads, (long long)n_kv_heads);
  }
  if (!(rope_theta > 0.0f) || !std::isfinite(rope_theta)) {
    return PD_ERROR(BadModelFile, "%s: expected a positive RoPE base (rope.freq_base), found %g", src, (double)rope_theta);
  }
  if (!(rms_eps > 0.0f) || !(rms_eps < 1.0f)) {
    return PD_ERROR(BadModelFile, "%s: expected an RMSNorm epsilon in (0, 1), found %g", src, (double)rms_eps);
  }
  return Status();
}

}  // namespace paddock
