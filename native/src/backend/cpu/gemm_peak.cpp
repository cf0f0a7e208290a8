#include "backend/cpu/gemm_peak.h"

#include <chrono>
#include <cstdint>
#include <vector>

#include "backend/cpu/matmul_grad.h"
#include "backend/cpu/ops.h"
#include "backend/cpu/threadpool.h"

namespace paddock {

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Values in [-1, 1): the rate of an FMA does not depend on them, but denormals or zeros could.
void fill(std::vector<float>& v, uint64_t seed) {
  for (float& x : v) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    x = (float)((seed >> 40) & 0xffff) / 32768.0f - 1.0f;
  }
}

}  // namespace

double measure_gemm_flops(ThreadPool& pool, double seconds_budget) {
  constexpr int64_t kIn = 2048, kOut = 2048, kTokens = 256;
  std::vector<float> w((size_t)(kIn * kOut)), x((size_t)(kIn * kTokens)), y((size_t)(kOut * kTokens));
  std::vector<float> dy((size_t)(kOut * kTokens)), dx((size_t)(kIn * kTokens));
  fill(w, 1);
  fill(x, 2);
  fill(dy, 3);
  const Tensor W = make_tensor("gemm_peak", DType::F32, w.data(), kIn, kOut);
  auto forward = [&] { matmul(&pool, W, x.data(), kTokens, y.data()); };
  auto backward = [&] { matmul_input_grad(&pool, W, dy.data(), kTokens, dx.data(), false); };
  double best = 1e30;
  // Each family gets half the budget; a warm-up run first (pages, caches, thread wake-up).
  auto time_best = [&](auto&& gemm) {
    gemm();
    const double start = now_s();
    for (int run = 0; run < 2 || now_s() - start < seconds_budget / 2; run++) {
      const double t0 = now_s();
      gemm();
      const double t = now_s() - t0;
      if (t < best) best = t;
    }
  };
  time_best(forward);
  time_best(backward);
  return 2.0 * (double)kIn * kOut * kTokens / best;
}

}  // namespace paddock
