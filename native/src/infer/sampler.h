// Next-token sampling. Temperature 0 is greedy (first maximum on ties, as llama2.c). Otherwise:
// top-k (0 = off), softmax of logits / temperature, top-p nucleus (>= 1 = off), then one draw
// from a seeded xorshift64* generator whose state belongs to this sampler, so a seed replays.
#pragma once

#include <cstdint>
#include <vector>

#include "core/status.h"

namespace paddock {

struct SamplerOptions {
  float temperature = 0.0f;
  float top_p = 1.0f;
  int top_k = 0;
  uint64_t seed = 0;
};

class Sampler {
 public:
  // INVALID_ARGUMENT for a negative/NaN temperature, top_p outside [0, 1] or a negative top_k.
  static Status create(const SamplerOptions& opts, Sampler* out);

  int32_t sample(const float* logits, int64_t n);
  uint64_t rng_state() const { return state_; }

 private:
  uint32_t next_u32();
  float next_f32();  // [0, 1)

  SamplerOptions opts_;
  uint64_t state_ = 1;
  std::vector<std::pair<float, int32_t>> cand_;  // scratch: (prob or logit, id)
};

int32_t argmax(const float* x, int64_t n);

}  // namespace paddock
