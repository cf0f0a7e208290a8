// Sampler: greedy picks the first maximum; a seed replays the same draws; top-k, top-p and min-p
// keep only the allowed tokens; the draws follow the softmax distribution; logit bias and the
// repetition / frequency / presence penalties move logits exactly as documented, over the window.
#include <vector>

#include "infer/sampler.h"
#include "testing.h"

using namespace paddock;

static std::vector<int32_t> draws(const SamplerOptions& o, const std::vector<float>& logits, int n) {
  Sampler s;
  CHECK_OK(Sampler::create(o, &s));
  std::vector<int32_t> out;
  for (int i = 0; i < n; i++) out.push_back(s.sample(logits.data(), (int64_t)logits.size()));
  return out;
}

// Greedy picks after `history` was accepted: penalties and bias are visible through argmax.
static int32_t greedy_after(const SamplerOptions& o, const std::vector<int32_t>& history, const std::vector<float>& logits) {
  Sampler s;
  CHECK_OK(Sampler::create(o, &s));
  for (int32_t t : history) s.accept(t);
  return s.sample(logits.data(), (int64_t)logits.size());
}

static void test_bias_and_penalties() {
  SamplerOptions o;  // greedy
  const std::vector<float> l = {3.0f, 2.0f, -1.0f, -1.5f};
  CHECK(greedy_after(o, {}, l) == 0);
  o.logit_bias = {{0, -INFINITY}};  // banned
  CHECK(greedy_after(o, {}, l) == 1);
  o.logit_bias = {{0, -0.5f}, {2, 4.0f}};  // 2.5, 2.0, 3.0
  CHECK(greedy_after(o, {}, l) == 2);
  o.logit_bias = {{0, -0.5f}, {2, 3.0f}};  // 2.5, 2.0, 2.0
  CHECK(greedy_after(o, {}, l) == 0);
  o.logit_bias = {{99, 5.0f}};  // an id past the vocabulary is ignored
  CHECK(greedy_after(o, {}, l) == 0);
  o.logit_bias.clear();

  // repetition (llama.cpp): 3 / 2 = 1.5 < 2 -> token 1 wins; counts don't matter, only presence.
  o.repeat_penalty = 2.0f;
  CHECK(greedy_after(o, {0}, l) == 1);
  CHECK(greedy_after(o, {0, 0, 0}, l) == 1);
  // ... and a negative logit is multiplied: -1 * 2 = -2 falls below -1.5.
  const std::vector<float> neg = {-1.0f, -1.5f};
  CHECK(greedy_after(o, {}, neg) == 0);
  CHECK(greedy_after(o, {0}, neg) == 1);
  // 1.1 < 1.5: a weak penalty keeps the leader.
  o.repeat_penalty = 1.1f;
  CHECK(greedy_after(o, {0}, l) == 0);
  o.repeat_penalty = 1.0f;

  // frequency (per occurrence): 3 - 0.6 * n vs 2 -> wins once, loses twice.
  o.frequency_penalty = 0.6f;
  CHECK(greedy_after(o, {0}, l) == 0);
  CHECK(greedy_after(o, {0, 0}, l) == 1);
  o.frequency_penalty = 0.0f;
  // presence (once, however often): 3 - 0.9 = 2.1 still wins after any count; 1.1 does not.
  o.presence_penalty = 0.9f;
  CHECK(greedy_after(o, {0, 0, 0, 0}, l) == 0);
  o.presence_penalty = 1.1f;
  CHECK(greedy_after(o, {0}, l) == 1);
  // A negative presence penalty encourages repeats.
  o.presence_penalty = -2.0f;
  CHECK(greedy_after(o, {3}, l) == 0);
  CHECK(greedy_after(o, {2}, l) == 0);  // -1 + 2 = 1 < 3
  o.presence_penalty = -5.0f;
  CHECK(greedy_after(o, {2}, l) == 2);  // -1 + 5 = 4

  // The window: only the last N accepted tokens count.
  o.presence_penalty = 1.1f;
  o.penalty_last_n = 2;
  CHECK(greedy_after(o, {0, 3}, l) == 1);     // 0 still in the window
  CHECK(greedy_after(o, {0, 3, 3}, l) == 0);  // 0 slid out
  o.penalty_last_n = 0;  // off
  CHECK(greedy_after(o, {0, 0}, l) == 0);
  o.penalty_last_n = 64;
  o.presence_penalty = 0.0f;

  // A banned token is never drawn, whatever the seed.
  SamplerOptions t;
  t.temperature = 1.5f;
  t.logit_bias = {{1, -INFINITY}};
  for (uint64_t seed = 0; seed < 20; seed++) {
    t.seed = seed;
    for (int32_t x : draws(t, {0.5f, 2.0f, 2.0f, -1.0f}, 50)) CHECK(x != 1);
  }
  // Everything banned: still a valid id, no NaN trouble.
  t.logit_bias = {{0, -INFINITY}, {1, -INFINITY}};
  const int32_t x = draws(t, {1.0f, 2.0f}, 1)[0];
  CHECK(x == 0 || x == 1);
}

static void test_min_p() {
  // p ~ 0.64, 0.24, 0.09, 0.03: min_p 0.3 keeps {0, 1}; 0.1 keeps {0, 1, 2}.
  const std::vector<float> l = {3.0f, 2.0f, 1.0f, 0.0f};
  SamplerOptions o;
  o.temperature = 1.0f;
  o.seed = 5;
  o.min_p = 0.3f;
  std::vector<int> seen(4, 0);
  for (int32_t t : draws(o, l, 2000)) seen[(size_t)t]++;
  CHECK(seen[0] > 0 && seen[1] > 0 && seen[2] == 0 && seen[3] == 0);
  o.min_p = 0.1f;
  seen.assign(4, 0);
  for (int32_t t : draws(o, l, 4000)) seen[(size_t)t]++;
  CHECK(seen[2] > 0 && seen[3] == 0);
  // The kept tokens keep their relative odds: p(1)/p(0) = e^-1 among {0, 1}.
  o.min_p = 0.3f;
  seen.assign(4, 0);
  const int N = 100000;
  for (int32_t t : draws(o, l, N)) seen[(size_t)t]++;
  CHECK_MSG(std::fabs(seen[1] / (double)N - std::exp(-1.0) / (1 + std::exp(-1.0))) < 0.01, "min-p renormalisation off: %d of %d", seen[1], N);
}

// Same seed, same options, same accepted tokens: the same draws, penalties and bias included.
static void test_seed_replays_with_everything_on() {
  SamplerOptions o;
  o.temperature = 0.9f;
  o.top_k = 5;
  o.top_p = 0.95f;
  o.min_p = 0.02f;
  o.repeat_penalty = 1.3f;
  o.frequency_penalty = 0.2f;
  o.presence_penalty = 0.1f;
  o.penalty_last_n = 8;
  o.logit_bias = {{3, 1.0f}, {6, -INFINITY}};
  o.seed = 1234;
  auto run = [&]() {
    Sampler s;
    CHECK_OK(Sampler::create(o, &s));
    std::vector<int32_t> out;
    std::vector<float> logits(8);
    for (int i = 0; i < 300; i++) {
      for (size_t j = 0; j < logits.size(); j++) logits[j] = (float)std::sin(0.7 * (double)(i + 3 * j));
      const int32_t t = s.sample(logits.data(), (int64_t)logits.size());
      s.accept(t);
      out.push_back(t);
    }
    return out;
  };
  const std::vector<int32_t> a = run();
  CHECK(a == run());
  for (int32_t t : a) CHECK(t != 6);
  o.seed = 1235;
  CHECK(run() != a);
}

int main() {
  std::vector<float> logits = {0.5f, 2.0f, 2.0f, -1.0f, 1.0f, 0.0f};
  SamplerOptions g;
  CHECK(draws(g, logits, 3) == std::vector<int32_t>({1, 1, 1}));  // first max on ties

  SamplerOptions o;
  o.temperature = 1.0f;
  o.seed = 42;
  std::vector<int32_t> a = draws(o, logits, 200), b = draws(o, logits, 200);
  CHECK(a == b);
  o.seed = 43;
  CHECK(draws(o, logits, 200) != a);

  o.top_k = 2;  // only ids 1 and 2
  for (int32_t t : draws(o, logits, 500)) CHECK(t == 1 || t == 2);
  o.top_k = 0;
  o.top_p = 0.5f;  // p(1) = p(2) ~ 0.35: nucleus {1, 2}
  for (int32_t t : draws(o, logits, 500)) CHECK(t == 1 || t == 2);

  // frequencies follow softmax(logits / T)
  o.top_p = 1.0f;
  o.temperature = 0.7f;
  std::vector<int> count(logits.size(), 0);
  const int N = 200000;
  for (int32_t t : draws(o, logits, N)) count[(size_t)t]++;
  double z = 0;
  for (float l : logits) z += std::exp(l / 0.7);
  double worst = 0;
  for (size_t i = 0; i < logits.size(); i++) worst = std::max(worst, std::fabs(count[i] / (double)N - std::exp(logits[i] / 0.7) / z));
  CHECK_MSG(worst < 0.01, "sampling frequencies off by %g", worst);

  Sampler s;
  SamplerOptions bad;
  bad.temperature = -1.0f;
  CHECK(Sampler::create(bad, &s).code() == ErrorCode::InvalidArgument);
  bad.temperature = 1.0f;
  bad.top_p = 1.5f;
  CHECK(Sampler::create(bad, &s).code() == ErrorCode::InvalidArgument);
  bad.top_p = 1.0f;
  bad.top_k = -1;
  CHECK(Sampler::create(bad, &s).code() == ErrorCode::InvalidArgument);
  bad.top_k = 0;
  bad.min_p = 2.0f;
  CHECK(Sampler::create(bad, &s).code() == ErrorCode::InvalidArgument);
  bad.min_p = 0.0f;
  bad.repeat_penalty = 0.0f;
  CHECK(Sampler::create(bad, &s).code() == ErrorCode::InvalidArgument);
  bad.repeat_penalty = 1.0f;
  bad.penalty_last_n = -1;
  CHECK(Sampler::create(bad, &s).code() == ErrorCode::InvalidArgument);
  bad.penalty_last_n = 64;
  bad.logit_bias = {{-3, 1.0f}};
  CHECK(Sampler::create(bad, &s).code() == ErrorCode::InvalidArgument);
  bad.logit_bias = {{3, NAN}};
  CHECK(Sampler::create(bad, &s).code() == ErrorCode::InvalidArgument);
  bad.logit_bias.clear();
  CHECK_OK(Sampler::create(bad, &s));

  test_bias_and_penalties();
  test_min_p();
  test_seed_replays_with_everything_on();
  return pdtest::finish("test_sampler");
}
