// Microbenchmark: single-thread matvec y = W x with W 2048 x 5632 (TinyLlama's FFN down-proj
// shape transposed: 2048 outputs, 5632 inputs) per weight type, scalar vs AVX2, reported as GB/s
// of weight bytes read. Each timed call includes quantizing x (as decode does once per matvec).
// Also times the batched kernel (quant_matmul) for 4 and 8 activation rows.
//
// Build (not part of ctest):
//   g++ -std=c++17 -O3 -march=x86-64-v2 native/bench/bench_quant.cpp native/src/backend/cpu/quant*.cpp native/src/backend/cpu/cpu_features.cpp -Inative/src -o bench_quant
// Usage: bench_quant [rows cols]
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "../src/backend/cpu/quant.h"
#include "../src/backend/cpu/quant_matvec.h"
#include "bench_timing.h"

using namespace paddock::quant;
using bench::best_time;

namespace {

// Runs one matvec with an explicit kernel table (so scalar and AVX2 can be compared in one
// process): quantize x with the activation type's from_float, then vec_dot per row.
double time_matvec(const QuantKernels* wk, const QuantKernels* ak, const std::vector<uint8_t>& W, int rows,
                   int cols, const std::vector<float>& x, int reps) {
  const size_t wrow = quant_row_size(wk->type, cols);
  std::vector<uint8_t> act(quant_row_size(wk->vec_dot_type, cols));
  std::vector<float> y(rows);
  return best_time(reps, [&] {
    ak->from_float(x.data(), act.data(), cols);
    for (int r = 0; r < rows; r++) y[r] = wk->vec_dot(cols, W.data() + r * wrow, act.data());
  });
}

}  // namespace

int main(int argc, char** argv) {
  const int rows = argc > 2 ? std::atoi(argv[1]) : 2048;
  const int cols = argc > 2 ? std::atoi(argv[2]) : 5632;
  std::printf("matvec %d x %d, 1 thread, best ISA %s; GB/s = weight bytes / time\n", rows, cols,
              quant_isa_name(quant_best_isa()));
  std::vector<float> wf(size_t(rows) * cols), x(size_t(cols) * 8);
  uint64_t s = 1;
  for (float& v : wf) v = float(int((s = s * 6364136223846793005ull + 1442695040888963407ull) >> 40) % 2001 - 1000) * 2e-5f;
  for (float& v : x) v = float(int((s = s * 6364136223846793005ull + 1442695040888963407ull) >> 40) % 2001 - 1000) * 1e-3f;

  std::printf("%-5s %8s | %9s %7s | %9s %7s %6s | %12s %12s\n", "type", "MiB", "scalar ms", "GB/s", "avx2 ms", "GB/s",
              "x", "batch4 ms/row", "batch8 ms/row");
  const QuantType types[] = {QuantType::F16, QuantType::Q8_0, QuantType::Q4_0, QuantType::Q4_1,
                             QuantType::Q4_K, QuantType::Q5_K, QuantType::Q6_K};
  for (QuantType t : types) {
    const QuantKernels* ks = quant_kernels_isa(t, QuantIsa::Scalar);
    const size_t bytes = quant_row_size(t, cols) * rows;
    if (!ks || bytes == 0) continue;
    std::vector<uint8_t> W(bytes);
    ks->from_float(wf.data(), W.data(), int64_t(rows) * cols);
    const double ts = time_matvec(ks, quant_kernels_isa(ks->vec_dot_type, QuantIsa::Scalar), W, rows, cols, x, 3);
    const QuantKernels* kv = quant_kernels_isa(t, QuantIsa::AVX2);
    double tv = 0, tb4 = 0, tb8 = 0;
    if (kv) {
      tv = time_matvec(kv, quant_kernels_isa(kv->vec_dot_type, QuantIsa::AVX2), W, rows, cols, x, 30);
      std::vector<uint8_t> scratch(quant_act_row_size(t, cols) * 8);
      std::vector<float> Y(size_t(rows) * 8);
      for (int nb : {4, 8}) {
        const double tb = best_time(10, [&] {
          quant_prepare_act(t, x.data(), cols, nb, scratch.data());
          quant_matmul(t, W.data(), rows, cols, nullptr, nb, Y.data(), 0, rows, scratch.data());
        });
        (nb == 4 ? tb4 : tb8) = tb / nb;
      }
    }
    std::printf("%-5s %8.2f | %9.3f %7.2f | %9.3f %7.2f %6.1f | %12.3f %12.3f\n", quant_type_info(t)->name,
                bytes / 1048576.0, ts * 1e3, bytes / ts / 1e9, tv * 1e3, kv ? bytes / tv / 1e9 : 0.0,
                kv ? ts / tv : 0.0, tb4 * 1e3, tb8 * 1e3);
  }
  return 0;
}
