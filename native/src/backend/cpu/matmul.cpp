// Matrix x activations on the CPU: rows of W split over threads, tokens tiled so a tile of
// activations stays in L2 while each weight row is streamed once per tile.
#include <vector>

#include "backend/cpu/kernels.h"
#include "backend/cpu/ops.h"
#include "backend/cpu/matmul_quant.h"
#include "backend/cpu/quant.h"
#include "backend/cpu/threadpool.h"

namespace paddock {

// Below this many multiply-adds a job runs on the calling thread: waking workers costs more.
static constexpr double kParallelMinWork = 128.0 * 1024.0;
static constexpr int64_t kTokenTile = 16;

static void matmul_rows(const CpuKernels& k, const Tensor& W, const float* x, int64_t T, float* y, int64_t r0,
                        int64_t r1) {
  const int64_t n_in = W.ne[0], n_out = W.ne[1];
  if (W.type == DType::F32) {
    for (int64_t t0 = 0; t0 < T; t0 += kTokenTile) {
      const int64_t t1 = t0 + kTokenTile < T ? t0 + kTokenTile : T;
      for (int64_t r = r0; r < r1; r++) {
        const float* w = (const float*)W.data + r * n_in;
        for (int64_t t = t0; t < t1; t++) y[t * n_out + r] = k.dot_f32(w, x + t * n_in, n_in);
      }
    }
    return;
  }
  const bool f16 = W.type == DType::F16;
  if (T == 1) {
    for (int64_t r = r0; r < r1; r++) {
      const uint16_t* w = (const uint16_t*)W.data + r * n_in;
      y[r] = f16 ? k.dot_f16(w, x, n_in) : k.dot_bf16(w, x, n_in);
    }
    return;
  }
  // Several tokens: convert each half-precision row once per tile, then use the F32 dot
  // (bit-identical to dot_f16 on the same row, see kernels.h).
  thread_local std::vector<float> row;
  if ((int64_t)row.size() < n_in) row.resize((size_t)n_in);
  for (int64_t t0 = 0; t0 < T; t0 += kTokenTile) {
    const int64_t t1 = t0 + kTokenTile < T ? t0 + kTokenTile : T;
    for (int64_t r = r0; r < r1; r++) {
      const uint16_t* w = (const uint16_t*)W.data + r * n_in;
      if (f16) {
        k.f16_to_f32(w, row.data(), n_in);
      } else {
        convert_to_f32(DType::BF16, w, row.data(), n_in);
      }
      for (int64_t t = t0; t < t1; t++) y[t * n_out + r] = k.dot_f32(row.data(), x + t * n_in, n_in);
    }
  }
}

void matmul(ThreadPool* pool, const Tensor& W, const float* x, int64_t n_tokens, float* y) {
  if (!dtype_is_float(W.type)) {
    matmul_quant(pool, W, x, n_tokens, y);
    return;
  }
  const CpuKernels& k = cpu_kernels();
  const double work = (double)W.ne[0] * (double)W.ne[1] * (double)n_tokens;
  if (!pool || pool->size() == 1 || work < kParallelMinWork) {
    matmul_rows(k, W, x, n_tokens, y, 0, W.ne[1]);
    return;
  }
  pool->run([&](int ith, int nth) {
    int64_t r0, r1;
    split_range(W.ne[1], ith, nth, &r0, &r1);
    matmul_rows(k, W, x, n_tokens, y, r0, r1);
  });
}

void get_row_f32(const Tensor& W, int64_t row, float* out) {
  if (!dtype_is_float(W.type)) {
    const quant::QuantKernels* k = quant::quant_kernels((quant::QuantType)(uint32_t)W.type);
    if (k && k->to_float) k->to_float(W.row(row), out, W.ne[0]);
    return;
  }
  convert_to_f32(W.type, W.row(row), out, W.ne[0]);
}

}  // namespace paddock
