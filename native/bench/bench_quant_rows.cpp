// Microbenchmark of the many-row quant kernels, one thread, every ISA level the CPU has, in one
// process so the levels are compared side by side:
//   matvec: the many-row gemv kernel over all rows (decode), GB/s of weight bytes (and, where
//           the ISA has one, its one-row vec_dot loop for comparison);
//   matmul: quant_matmul with T tokens (prefill), GMAC/s.
// The ISA is chosen per table (quant_kernels_isa), not through PADDOCK_CPU_ISA.
// Usage: bench_quant_rows [rows cols T]
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

// The rows loop quant_matvec.cpp runs, but with an explicit kernel table.
void rows_matmul(const QuantKernels* k, const uint8_t* W, int rows, int cols, const uint8_t* act, int T, float* Y,
                 std::vector<uint8_t>& work, bool many_row_kernels = true) {
  const size_t wrb = quant_row_size(k->type, cols), arb = quant_row_size(k->vec_dot_type, cols);
  work.resize(quant_rows_work_bytes(cols, T) + 64);
  void* wk = reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(work.data()) + 63) & ~uintptr_t(63));
  if (T == 1 && k->gemv && many_row_kernels) return k->gemv(cols, W, wrb, 0, rows, act, Y, wk);
  if (T > 1 && k->gemm) return k->gemm(cols, W, wrb, 0, rows, act, arb, T, Y, size_t(rows), wk);
  float out[kMaxBatch];
  for (int r = 0; r < rows; r++)
    for (int a = 0; a < T; a += kMaxBatch) {
      const int na = T - a < kMaxBatch ? T - a : kMaxBatch;
      k->vec_dot_multi(cols, W + r * wrb, act + a * arb, arb, na, out);
      for (int i = 0; i < na; i++) Y[size_t(a + i) * rows + r] = out[i];
    }
}

}  // namespace

int main(int argc, char** argv) {
  const int rows = argc > 3 ? std::atoi(argv[1]) : 2048;
  const int cols = argc > 3 ? std::atoi(argv[2]) : 5632;
  const int T = argc > 3 ? std::atoi(argv[3]) : 64;
  std::printf("rows %d cols %d, matmul T=%d, 1 thread\n", rows, cols, T);
  std::vector<float> wf(size_t(rows) * cols), x(size_t(cols) * T);
  uint64_t s = 1;
  auto rnd = [&] { return float(int((s = s * 6364136223846793005ull + 1442695040888963407ull) >> 40) % 2001 - 1000); };
  for (float& v : wf) v = rnd() * 2e-5f;
  for (float& v : x) v = rnd() * 1e-3f;
  const QuantType types[] = {QuantType::Q8_0, QuantType::Q4_0, QuantType::Q4_1, QuantType::Q4_K, QuantType::Q5_K,
                             QuantType::Q6_K};
  std::vector<uint8_t> work;
  for (QuantType t : types) {
    const size_t bytes = quant_row_size(t, cols) * rows;
    std::vector<uint8_t> W(bytes);
    quant_kernels_isa(t, QuantIsa::Scalar)->from_float(wf.data(), W.data(), int64_t(rows) * cols);
    std::vector<uint8_t> act(quant_act_row_size(t, cols) * T);
    quant_prepare_act(t, x.data(), cols, T, act.data());
    std::vector<float> Y(size_t(rows) * T);
    std::printf("%-5s", quant_type_info(t)->name);
    for (QuantIsa isa : {QuantIsa::AVX2, QuantIsa::AVX512}) {
      const QuantKernels* k = quant_kernels_isa(t, isa);
      if (!k) continue;
      const double tv = best_time(20, [&] { rows_matmul(k, W.data(), rows, cols, act.data(), 1, Y.data(), work); });
      const double tm = best_time(3, [&] { rows_matmul(k, W.data(), rows, cols, act.data(), T, Y.data(), work); });
      std::printf(" | %-6s matvec %6.2f GB/s  matmul %7.1f GMAC/s", quant_isa_name(isa), bytes / tv / 1e9,
                  double(rows) * cols * T / tm / 1e9);
      if (k->gemv) {  // the same ISA's one-row vec_dot loop, for comparison with its gemv
        const double t1 = best_time(20, [&] { rows_matmul(k, W.data(), rows, cols, act.data(), 1, Y.data(), work, false); });
        std::printf(" (vec_dot rows %6.2f GB/s)", bytes / t1 / 1e9);
      }
    }
    std::printf("\n");
  }
  return 0;
}
