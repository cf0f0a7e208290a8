// Next-token sampling, in this order (llama.cpp's chain, with temperature before the filters as
// Paddock has always done):
//   1. logit bias (additive; -inf bans a token),
//   2. penalties over the last `penalty_last_n` accepted tokens: repetition (llama.cpp: a positive
//      logit is divided by it, a negative one multiplied), frequency and presence (OpenAI:
//      logit -= count * frequency + (count > 0) * presence),
//   3. temperature 0: greedy (first maximum on ties, as llama2.c); otherwise top-k (0 = off),
//      softmax of logits / temperature, top-p nucleus (>= 1 = off), min-p (drop tokens whose
//      probability is below min_p times the top one's; 0 = off), then one draw from a seeded
//      xorshift64* generator whose state belongs to this sampler, so a seed replays.
// The sampler remembers the tokens it is told about through accept() (prompt tail and sampled
// tokens) because the penalties need them; sample() itself does not record its choice.
#pragma once

#include <cstdint>
#include <deque>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/status.h"

namespace paddock {

struct SamplerOptions {
  float temperature = 0.0f;
  float top_p = 1.0f;
  int top_k = 0;
  float min_p = 0.0f;
  float repeat_penalty = 1.0f;     // 1 = off
  float frequency_penalty = 0.0f;  // 0 = off
  float presence_penalty = 0.0f;   // 0 = off
  int penalty_last_n = 64;         // the penalty window; 0 = penalties off
  std::vector<std::pair<int32_t, float>> logit_bias;  // (token id, bias); -inf bans
  uint64_t seed = 0;
};

class Sampler {
 public:
  // INVALID_ARGUMENT for a negative/NaN temperature, top_p or min_p outside [0, 1], a negative
  // top_k or window, a repetition penalty <= 0, non-finite penalties, a negative bias id or NaN bias.
  static Status create(const SamplerOptions& opts, Sampler* out);

  int32_t sample(const float* logits, int64_t n);
  // Records a token in the penalty window (drops the oldest once the window is full).
  void accept(int32_t token);
  uint64_t rng_state() const { return state_; }

 private:
  uint32_t next_u32();
  float next_f32();  // [0, 1)
  void apply_bias_and_penalties(float* x, int64_t n) const;

  SamplerOptions opts_;
  uint64_t state_ = 1;
  std::deque<int32_t> recent_;                // the penalty window, oldest first
  std::unordered_map<int32_t, int> counts_;   // occurrences of each token in recent_
  std::vector<float> adjusted_;               // scratch: logits after bias and penalties
  std::vector<std::pair<float, int32_t>> cand_;  // scratch: (prob or logit, id)
};

int32_t argmax(const float* x, int64_t n);

}  // namespace paddock
