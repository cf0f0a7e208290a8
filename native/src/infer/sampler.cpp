#include "infer/sampler.h"

#include <algorithm>
#include <cmath>
#include <cstddef>

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
  out->opts_ = opts;
  // splitmix64 of the seed: any seed (0 included) gives a well-mixed, non-zero xorshift state.
  uint64_t z = opts.seed + 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
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

int32_t Sampler::sample(const float* logits, int64_t n) {
  if (n <= 0) return 0;
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

  const double r = (double)next_f32() * mass;
  double cdf = 0.0;
  for (auto& c : cand_) {
    cdf += c.first;
    if (r < cdf) return c.second;
  }
  return cand_.back().second;  // rounding: r landed past the last cdf step
}

}  // namespace paddock
