// Static splits of per-row work over the pool for the training graph: which thread computes
// which row is fixed for a thread count, and each row is one thread's, so results never depend
// on scheduling.
#pragma once

#include <cstdint>

#include "backend/cpu/threadpool.h"

namespace paddock {

// fn(r) for r in [0, n): contiguous shares when the job is worth a wake-up, else on the caller.
template <class F>
void for_each_row(ThreadPool* pool, int64_t n, double work, F&& fn) {
  if (!pool || pool->size() == 1 || n == 1 || work < 16.0 * 1024.0) {
    for (int64_t r = 0; r < n; r++) fn(r);
    return;
  }
  pool->run([&](int ith, int nth) {
    int64_t r0, r1;
    split_range(n, ith, nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) fn(r);
  });
}

// fn(begin, end) over a thread's contiguous share of [0, n) (column-parallel reductions).
template <class F>
void for_each_share(ThreadPool* pool, int64_t n, double work, F&& fn) {
  if (!pool || pool->size() == 1 || work < 16.0 * 1024.0) {
    fn((int64_t)0, n);
    return;
  }
  pool->run([&](int ith, int nth) {
    int64_t b, e;
    split_range(n, ith, nth, &b, &e);
    if (b < e) fn(b, e);
  });
}

}  // namespace paddock
