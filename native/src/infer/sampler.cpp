#include "infer/sampler.h"

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "core/splitmix.h"

namespace paddock {

int32_t argmax(const float* x, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; i++)
    if (x[i] > x[best]) best = i;
  return (int32_t)best;
}

Status Sampler::create(const SamplerOptions& opts, Sampler* out) {
  if (!(opts.temperature >= 0.0f) || !std::isfinite(opts.temperature)) {
    return PD_ERROR(InvalidArgument, "temperature must be a finite number >= 0, found %g", (double)opts.temperature);
  }
  if (!(opts.top_p >= 0.0f && opts.top_p <= 1.0f)) {
    return PD_ERROR(InvalidArgument, "topP must be between 0 and 1, found %g", (double)opts.top_p);
  }
  if (opts.top_k < 0) return PD_ERROR(InvalidArgument, "topK must be >= 0 (0 = off), found %d", opts.top_k);
  if (!(opts.min_p >= 0.0f && opts.min_p <= 1.0f)) {
    return PD_ERROR(InvalidArgument, "minP must be between 0 and 1, found %g", (double)opts.min_p);
  }
  if (!(opts.repeat_penalty > 0.0f) || !std::isfinite(opts.repeat_penalty)) {
    return PD_ERROR(InvalidArgument, "repeatPenalty must be a finite number > 0 (1 = off), found %g", (double)opts.repeat_penalty);
  }
  if (!std::isfinite(opts.frequency_penalty) || !std::isfinite(opts.presence_penalty)) {
    return PD_ERROR(InvalidArgument, "frequencyPenalty and presencePenalty must be finite numbers");
  }
  if (opts.penalty_last_n < 0) {
    return PD_ERROR(InvalidArgument, "penaltyLastN must be >= 0 (0 = no penalties), found %d", opts.penalty_last_n);
  }
  for (const auto& b : opts.logit_bias) {
    if (b.first < 0) return PD_ERROR(InvalidArgument, "logit bias for token id %d: ids are >= 0", b.first);
    if (std::isnan(b.second) || b.second == INFINITY) {
      return PD_ERROR(InvalidArgument, "logit bias for token %d must be a number or -inf, found %g", b.first, (double)b.second);
    }
  }
  out->opts_ = opts;
  out->recent_.clear();
  out->counts_.clear();
  // splitmix64 of the seed: any seed (0 included) gives a well-mixed, non-zero xorshift state.
  const uint64_t z = splitmix64(opts.seed);
  out->state_ = z ? z : 0x2545F4914F6CDD1Dull;
  return Status();
}

uint32_t Sampler::next_u32() {
  state_ ^= state_ >> 12;
  state_ ^= state_ << 25;
  state_ ^= state_ >> 27;
  return (uint32_t)((state_ * 0x2545F4914F6CDD1Dull) >> 32);
}

float Sampler::next_f32() { return (float)(next_u32() >> 8) / 16777216.0f; }

void Sampler::accept(int32_t token) {
  // The window is only kept when a penalty will read it.
  const bool penalties = opts_.repeat_penalty != 1.0f || opts_.frequency_penalty != 0.0f || opts_.presence_penalty != 0.0f;
  if (opts_.penalty_last_n <= 0 || !penalties) return;
  if ((int)recent_.size() == opts_.penalty_last_n) {
    auto it = counts_.find(recent_.front());
    if (--it->second == 0) counts_.erase(it);
    recent_.pop_front();
  }
  recent_.push_back(token);
  counts_[token]++;
}

void Sampler::apply_bias_and_penalties(float* x, int64_t n) const {
  for (const auto& b : opts_.logit_bias)
    if (b.first < n) x[b.first] += b.second;
  const bool repeat = opts_.repeat_penalty != 1.0f;
  const bool openai = opts_.frequency_penalty != 0.0f || opts_.presence_penalty != 0.0f;
  if (!repeat && !openai) return;
  for (const auto& [token, count] : counts_) {
    if (token < 0 || token >= n) continue;
    float& l = x[token];
    if (repeat) l = l > 0.0f ? l / opts_.repeat_penalty : l * opts_.repeat_penalty;
    l -= (float)count * opts_.frequency_penalty + opts_.presence_penalty;
  }
}

int32_t Sampler::sample(const float* raw_logits, int64_t n) {
  if (n <= 0) return 0;
  // Bias and penalties work on a copy (the caller's logits stay as the model produced them);
  // without them, no copy: greedy decoding over a 128K vocabulary stays a single pass.
  const float* logits = raw_logits;
  if (!opts_.logit_bias.empty() || !counts_.empty()) {
    adjusted_.assign(raw_logits, raw_logits + n);
    apply_bias_and_penalties(adjusted_.data(), n);
    logits = adjusted_.data();
  }
  if (opts_.temperature == 0.0f) return argmax(logits, n);

  // Candidates sorted by logit (descending, lower id first on ties) when k or p need an order.
  cand_.resize((size_t)n);
  for (int64_t i = 0; i < n; i++) cand_[(size_t)i] = {logits[i], (int32_t)i};
  auto by_value = [](const std::pair<float, int32_t>& a, const std::pair<float, int32_t>& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  size_t m = (size_t)n;
  const bool use_top_p = opts_.top_p > 0.0f && opts_.top_p < 1.0f;
  if (opts_.top_k > 0 && (size_t)opts_.top_k < m) {
    m = (size_t)opts_.top_k;
    std::partial_sort(cand_.begin(), cand_.begin() + (std::ptrdiff_t)m, cand_.end(), by_value);
  } else if (use_top_p) {
    std::sort(cand_.begin(), cand_.end(), by_value);
  }
  cand_.resize(m);

  // softmax(logit / T)
  float max_l = cand_[0].first;
  for (auto& c : cand_) max_l = std::max(max_l, c.first);
  if (max_l == -INFINITY) return argmax(logits, n);  // everything banned: nothing sensible to draw
  double sum = 0.0;
  for (auto& c : cand_) {
    c.first = std::exp((c.first - max_l) / opts_.temperature);
    sum += c.first;
  }
  for (auto& c : cand_) c.first = (float)(c.first / sum);

  // nucleus: the smallest prefix (by probability) whose mass exceeds top_p
  double mass = 1.0;
  if (use_top_p) {
    double cum = 0.0;
    size_t last = m - 1;
    for (size_t i = 0; i < m; i++) {
      cum += cand_[i].first;
      if (cum > opts_.top_p) {
        last = i;
        break;
      }
    }
    cand_.resize(last + 1);
    mass = cum > 0.0 ? std::min(cum, 1.0) : 1.0;
  }

  // min-p: relative to the most likely remaining token (the candidates' maximum, sorted or not).
  if (opts_.min_p > 0.0f) {
    float top = 0.0f;
    for (auto& c : cand_) top = std::max(top, c.first);
    const float floor_p = opts_.min_p * top;
    size_t kept = 0;
    double kept_mass = 0.0;
    for (auto& c : cand_) {
      if (c.first >= floor_p) {
        cand_[kept++] = c;
        kept_mass += c.first;
      }
    }
    cand_.resize(kept);
    mass = kept_mass;
  }

  const double r = (double)next_f32() * mass;
  double cdf = 0.0;
  for (auto& c : cand_) {
    cdf += c.first;
    if (r < cdf) return c.second;
  }
  // rounding: r landed past the last cdf step; take the last token that had any probability
  for (size_t i = cand_.size(); i-- > 0;)
    if (cand_[i].first > 0.0f) return cand_[i].second;
  return cand_.back().second;
}

}  // namespace paddock
