// A persistent thread pool for the forward pass. The calling thread is worker 0, so a pool of
// n threads starts n-1 OS threads. Between jobs workers spin briefly (a decode step issues
// hundreds of jobs back to back) and then block on a condition variable, so an idle engine
// costs no CPU. Work is split statically (split_range), so which thread computes which row is
// fixed for a given thread count and results are bitwise reproducible.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace paddock {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return (int)workers_.size() + 1; }

  // Runs fn(ith, nth) on every thread (nth == size()) and returns when all have finished.
  // Not reentrant: fn must not call run() again.
  template <class F>
  void run(F&& fn) {
    using Fn = std::remove_reference_t<F>;
    run_impl([](void* ctx, int ith, int nth) { (*(Fn*)ctx)(ith, nth); }, (void*)&fn);
  }

 private:
  using TaskFn = void (*)(void* ctx, int ith, int nth);
  void run_impl(TaskFn fn, void* ctx);
  void worker_loop(int ith);

  std::vector<std::thread> workers_;
  TaskFn fn_ = nullptr;
  void* ctx_ = nullptr;
  std::atomic<uint64_t> generation_{0};  // bumped once per job; workers wait for a change
  std::atomic<int> pending_{0};          // workers still running the current job
  std::atomic<int> sleeping_{0};         // workers blocked on cv_
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
};

// Below this many multiply-adds a matmul runs on the calling thread: waking workers costs more.
constexpr double kParallelMinWork = 128.0 * 1024.0;

// The [begin, end) share of n items for thread ith of nth (contiguous, as even as possible).
inline void split_range(int64_t n, int ith, int nth, int64_t* begin, int64_t* end) {
  const int64_t chunk = n / nth, rem = n % nth;
  *begin = ith * chunk + (ith < rem ? ith : rem);
  *end = *begin + chunk + (ith < rem ? 1 : 0);
}

}  // namespace paddock
