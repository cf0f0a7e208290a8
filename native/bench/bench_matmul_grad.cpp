// Microbenchmark of the backward GEMMs beside their forward peer, in one process so they see
// the same machine load: for TinyLlama's linear shapes at T tokens,
//   forward     y  = x W^T  (matmul(): Paddock's prefill GEMM, the peer inside Paddock)
//   input grad  dx = dy W   (matmul_input_grad, every ISA table this CPU has)
// for F16 and Q4_0 weights, and the F32 weight grad dW += dy^T x. GFLOP/s count 2 flops per
// multiply-add; "x fwd" is the backward time over the forward time (1.0 = as fast).
// Timings are wall-clock best-of-N: on a loaded machine compare the ratios within one line.
// Usage: bench_matmul_grad [T threads reps]
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "../src/backend/cpu/matmul_grad.h"
#include "../src/backend/cpu/matmul_grad_kernels.h"
#include "../src/backend/cpu/ops.h"
#include "../src/backend/cpu/threadpool.h"
#include "bench_timing.h"

using namespace paddock;
using bench::best_time;

namespace {

std::vector<float> noise(size_t n, uint64_t seed, float scale) {
  std::vector<float> v(n);
  for (float& x : v) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    x = (float((seed >> 40) % 2001) - 1000.0f) * scale;
  }
  return v;
}

double gflops(double macs, double seconds) { return 2.0 * macs / seconds * 1e-9; }

void bench_shape(ThreadPool& pool, DType type, int64_t n_in, int64_t n_out, int64_t T, int reps) {
  size_t row_bytes = 0;
  dtype_row_bytes(type, n_in, &row_bytes);
  std::vector<uint8_t> wbytes(row_bytes * (size_t)n_out);
  const std::vector<float> wf = noise((size_t)(n_in * n_out), 7, 2e-5f);
  for (int64_t o = 0; o < n_out; o++) row_from_f32(type, wf.data() + o * n_in, wbytes.data() + o * row_bytes, n_in);
  const Tensor W = make_tensor("w", type, wbytes.data(), n_in, n_out);
  const std::vector<float> x = noise((size_t)(T * n_in), 11, 1e-3f), dy = noise((size_t)(T * n_out), 13, 1e-3f);
  std::vector<float> y((size_t)(T * n_out)), dx((size_t)(T * n_in));
  const double macs = (double)n_in * n_out * T;
  const double t_fwd = best_time(reps, [&] { matmul(&pool, W, x.data(), T, y.data()); });
  std::printf("%-5s %5lldx%-5lld fwd %7.1f ms %6.1f GF/s |", dtype_name(type), (long long)n_out, (long long)n_in,
              t_fwd * 1e3, gflops(macs, t_fwd));
  for (const GradGemmKernels* k : grad_gemm_tables()) {
    const double t = best_time(reps, [&] { matmul_input_grad_with(*k, &pool, W, dy.data(), T, dx.data(), false); });
    std::printf(" dx[%s] %7.1f ms %6.1f GF/s %4.2fx fwd |", k->isa, t * 1e3, gflops(macs, t), t / t_fwd);
  }
  std::printf("\n");
}

void bench_weight_grad(ThreadPool& pool, int64_t n_in, int64_t n_out, int64_t T, int reps) {
  const std::vector<float> x = noise((size_t)(T * n_in), 11, 1e-3f), dy = noise((size_t)(T * n_out), 13, 1e-3f);
  std::vector<float> dW((size_t)(n_in * n_out)), y((size_t)(T * n_out));
  const Tensor W = make_tensor("w", DType::F32, dW.data(), n_in, n_out);
  const double macs = (double)n_in * n_out * T;
  const double t_fwd = best_time(reps, [&] { matmul(&pool, W, x.data(), T, y.data()); });
  std::printf("dW    %5lldx%-5lld fwd(F32) %7.1f ms %6.1f GF/s |", (long long)n_out, (long long)n_in, t_fwd * 1e3,
              gflops(macs, t_fwd));
  for (const GradGemmKernels* k : grad_gemm_tables()) {
    const double t =
        best_time(reps, [&] { matmul_weight_grad_with(*k, &pool, dy.data(), x.data(), T, n_out, n_in, dW.data()); });
    std::printf(" dW[%s] %7.1f ms %6.1f GF/s %4.2fx fwd |", k->isa, t * 1e3, gflops(macs, t), t / t_fwd);
  }
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t T = argc > 1 ? std::atoll(argv[1]) : 256;
  const int threads = argc > 2 ? std::atoi(argv[2]) : (int)std::thread::hardware_concurrency();
  const int reps = argc > 3 ? std::atoi(argv[3]) : 5;
  ThreadPool pool(threads);
  std::printf("T=%lld, %d threads, best of %d\n", (long long)T, threads, reps);
  const int64_t shapes[][2] = {{2048, 2048}, {2048, 5632}, {5632, 2048}};  // {n_in, n_out}
  for (DType type : {DType::F16, DType::Q4_0})
    for (const auto& s : shapes) bench_shape(pool, type, s[0], s[1], T, reps);
  bench_shape(pool, DType::F32, 8, 2048, T, reps);  // LoRA B (r = 8): dz = dy B
  bench_shape(pool, DType::F32, 2048, 8, T, reps);  // LoRA A: dx += dz A
  bench_weight_grad(pool, 2048, 2048, T, reps);
  bench_weight_grad(pool, 2048, 8, T, reps);  // LoRA A (r = 8)
  bench_weight_grad(pool, 8, 2048, T, reps);  // LoRA B
  return 0;
}
