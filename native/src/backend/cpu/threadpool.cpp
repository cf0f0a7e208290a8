#include "backend/cpu/threadpool.h"

#include <chrono>

#include "backend/cpu/fpu_mode.h"

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#include <immintrin.h>
#define PD_CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define PD_CPU_RELAX() __asm__ __volatile__("yield")
#else
#define PD_CPU_RELAX() ((void)0)
#endif

namespace paddock {

// How long an idle worker spins before it blocks: long enough to bridge the gaps between the
// jobs of one forward pass, short enough that a finished decode frees the cores at once.
static constexpr auto kSpinTime = std::chrono::microseconds(200);

ThreadPool::ThreadPool(int n_threads) {
  if (n_threads < 1) n_threads = 1;
  workers_.reserve((size_t)n_threads - 1);
  for (int i = 1; i < n_threads; i++) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true);
  {
    std::lock_guard<std::mutex> lk(mu_);
    cv_.notify_all();
  }
  for (auto& t : workers_) t.join();
}

void ThreadPool::worker_loop(int ith) {
  ScopedFlushDenormals ftz;  // workers only ever run compute jobs
  uint64_t seen = 0;
  for (;;) {
    uint64_t gen = generation_.load();
    if (gen == seen && !stop_.load()) {
      auto start = std::chrono::steady_clock::now();
      for (int spins = 0;; spins++) {
        gen = generation_.load();
        if (gen != seen || stop_.load()) break;
        PD_CPU_RELAX();
        if ((spins & 255) == 255 && std::chrono::steady_clock::now() - start > kSpinTime) {
          // Block. sleeping_ is raised under the lock before re-checking, so run_impl either
          // sees a sleeper and notifies, or we see its new generation (both are seq_cst).
          std::unique_lock<std::mutex> lk(mu_);
          sleeping_.fetch_add(1);
          cv_.wait(lk, [&] { return generation_.load() != seen || stop_.load(); });
          sleeping_.fetch_sub(1);
          gen = generation_.load();
          break;
        }
      }
    }
    if (stop_.load()) return;
    seen = gen;
    fn_(ctx_, ith, size());
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::run_impl(TaskFn fn, void* ctx) {
  const int nth = size();
  if (nth == 1) {
    fn(ctx, 0, 1);
    return;
  }
  fn_ = fn;
  ctx_ = ctx;
  pending_.store(nth - 1, std::memory_order_relaxed);
  generation_.fetch_add(1);  // seq_cst: publishes fn_, ctx_ and pending_
  if (sleeping_.load() > 0) {
    std::lock_guard<std::mutex> lk(mu_);
    cv_.notify_all();
  }
  fn(ctx, 0, nth);
  for (int spins = 0; pending_.load(std::memory_order_acquire) != 0; spins++) {
    if (spins < 4096) {
      PD_CPU_RELAX();
    } else {
      std::this_thread::yield();  // a worker was descheduled (busy machine): give it the core
    }
  }
}

}  // namespace paddock
