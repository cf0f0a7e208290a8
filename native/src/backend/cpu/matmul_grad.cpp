// Straightforward first version of the backward GEMMs (correct, threaded, not yet blocked).
#include "backend/cpu/matmul_grad.h"

#include <vector>

#include "backend/cpu/ops.h"
#include "backend/cpu/threadpool.h"

namespace paddock {

template <class F>
static void run_split(ThreadPool* pool, int64_t n, double work, F&& fn) {
  if (!pool || pool->size() == 1 || work < kParallelMinWork) {
    fn(0, n);
    return;
  }
  pool->run([&](int ith, int nth) {
    int64_t b, e;
    split_range(n, ith, nth, &b, &e);
    if (b < e) fn(b, e);
  });
}

void matmul_input_grad(ThreadPool* pool, const Tensor& W, const float* dy, int64_t T, float* dx, bool accumulate) {
  const int64_t n_in = W.ne[0], n_out = W.ne[1];
  // Each thread owns a range of tokens: dx rows are disjoint, W rows are read by all.
  run_split(pool, T, (double)T * n_in * n_out, [&](int64_t t0, int64_t t1) {
    std::vector<float> row((size_t)n_in);
    if (!accumulate)
      for (int64_t t = t0; t < t1; t++)
        for (int64_t i = 0; i < n_in; i++) dx[t * n_in + i] = 0.0f;
    for (int64_t o = 0; o < n_out; o++) {
      get_row_f32(W, o, row.data());
      for (int64_t t = t0; t < t1; t++) {
        const float g = dy[t * n_out + o];
        float* d = dx + t * n_in;
        for (int64_t i = 0; i < n_in; i++) d[i] += g * row[(size_t)i];
      }
    }
  });
}

void matmul_weight_grad(ThreadPool* pool, const float* dy, const float* x, int64_t T, int64_t n_out, int64_t n_in,
                        float* dW) {
  // Each thread owns a range of output rows of dW.
  run_split(pool, n_out, (double)T * n_in * n_out, [&](int64_t o0, int64_t o1) {
    for (int64_t o = o0; o < o1; o++) {
      float* d = dW + o * n_in;
      for (int64_t t = 0; t < T; t++) {
        const float g = dy[t * n_out + o];
        const float* xr = x + t * n_in;
        for (int64_t i = 0; i < n_in; i++) d[i] += g * xr[i];
      }
    }
  });
}

}  // namespace paddock
