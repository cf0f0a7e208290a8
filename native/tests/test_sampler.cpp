// Sampler: greedy picks the first maximum; a seed replays the same draws; top-k and top-p keep
// only the allowed tokens; the draws follow the softmax distribution.
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
  return pdtest::finish("test_sampler");
}
