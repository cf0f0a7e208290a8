// Timing for the native microbenchmarks: a monotonic clock and best-of-N.
#pragma once

#include <chrono>
#include <cmath>

namespace bench {

inline double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Best of `reps` runs (after one warm-up), in seconds.
template <typename F>
double best_time(int reps, F&& f) {
  f();
  double best = 1e30;
  for (int i = 0; i < reps; i++) {
    const double t0 = now_s();
    f();
    best = std::fmin(best, now_s() - t0);
  }
  return best;
}

}  // namespace bench
