// The backward GEMMs (matmul_grad.h) on every table this CPU runs (scalar, AVX2, AVX-512):
//   - input grad for every weight type the forward runs, against a double reference built
//     from get_row_f32's rows, and bit for bit equal to the input grad of those rows as F32
//     (the dequantized values are exactly get_row_f32's);
//   - odd shapes: every tile tail (rows, columns), several k slivers, column panels and row
//     passes, T = 1; accumulate on and off; nothing outside the output written;
//   - weight grad, including the skinny LoRA shapes;
//   - measure_gemm_flops gives a sane rate;
//   - results bitwise identical for 1, 2 and 3 threads, and between the AVX2 and AVX-512 tables
//     (both run one fused multiply-add chain per output in k order).
// Tolerance: each output is a chain of K float multiply-adds from its start value c, so its
// error is at most ~(K + 1) * 2^-24 * (|c| + sum |terms|) (fused or not); we allow 1.5x that,
// relative to that magnitude. A wrong index or a lost term is off by O(magnitude).
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "backend/cpu/cpu_features.h"
#include "backend/cpu/gemm_peak.h"
#include "backend/cpu/matmul_grad.h"
#include "backend/cpu/matmul_grad_kernels.h"
#include "backend/cpu/ops.h"
#include "backend/cpu/quant.h"
#include "backend/cpu/threadpool.h"
#include "testing.h"

using namespace paddock;

namespace {

std::mt19937 rng(1234);

std::vector<float> randn(int64_t n) {
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> v((size_t)n);
  for (float& x : v) x = nd(rng);
  return v;
}

// A random [n_out, n_in] weight of type t (quantized with the reference quantizer).
struct Weight {
  std::vector<uint8_t> bytes;
  Tensor W;
  Weight(DType t, int64_t n_in, int64_t n_out) {
    size_t rb = 0;
    dtype_row_bytes(t, n_in, &rb);
    bytes.resize(rb * (size_t)n_out);
    const std::vector<float> f = randn(n_in * n_out);
    for (int64_t o = 0; o < n_out; o++) row_from_f32(t, f.data() + o * n_in, bytes.data() + o * rb, n_in);
    W = make_tensor("w", t, bytes.data(), n_in, n_out);
  }
};

// Counts outputs of out [rows, cols] farther from ref than the tolerance above (K terms each;
// c0: start values or nullptr for 0). ref/mag: the exact sum and sum |terms| without c0.
int count_far(const std::vector<float>& out, const std::vector<double>& ref, const std::vector<double>& mag,
              const float* c0, int64_t K) {
  int bad = 0;
  for (size_t j = 0; j < ref.size(); j++) {
    const double c = c0 ? c0[j] : 0.0;
    const double tol = 1.5 * (double)(K + 1) * std::ldexp(1.0, -24) * (std::fabs(c) + mag[j]) + 1e-30;
    bad += !(std::fabs((double)out[j] - (c + ref[j])) <= tol);  // NaN counts as far
  }
  return bad;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

ThreadPool& pool(int n) {
  static ThreadPool p1(1), p2(2), p3(3);
  return n == 1 ? p1 : n == 2 ? p2 : p3;
}

// Input grad of W for T tokens on every table; `guard` floats after dx must stay untouched.
void check_input_grad(const Tensor& W, int64_t T, bool threads, const char* what) {
  const int64_t n_in = W.ne[0], n_out = W.ne[1], guard = 19;
  const std::vector<float> dy = randn(T * n_out), dx0 = randn(T * n_in);
  std::vector<double> ref((size_t)(T * n_in), 0.0), mag((size_t)(T * n_in), 0.0);
  std::vector<float> row((size_t)n_in);
  for (int64_t o = 0; o < n_out; o++) {
    get_row_f32(W, o, row.data());
    for (int64_t t = 0; t < T; t++)
      for (int64_t i = 0; i < n_in; i++) {
        const double p = (double)dy[(size_t)(t * n_out + o)] * row[(size_t)i];
        ref[(size_t)(t * n_in + i)] += p;
        mag[(size_t)(t * n_in + i)] += std::fabs(p);
      }
  }
  for (bool acc : {false, true}) {
    std::vector<float> simd;  // the first SIMD table's result, for the bitwise comparison
    for (const GradGemmKernels* k : grad_gemm_tables()) {
      std::vector<float> dx(dx0);
      dx.resize((size_t)(T * n_in + guard), 42.0f);
      matmul_input_grad_with(*k, nullptr, W, dy.data(), T, dx.data(), acc);
      bool guard_ok = true;
      for (int64_t g = 0; g < guard; g++) guard_ok &= dx[(size_t)(T * n_in + g)] == 42.0f;
      CHECK_MSG(guard_ok, "%s %s: wrote past dx", what, k->isa);
      dx.resize((size_t)(T * n_in));
      const int bad = count_far(dx, ref, mag, acc ? dx0.data() : nullptr, n_out);
      CHECK_MSG(bad == 0, "%s %s T=%lld [%lld x %lld] acc=%d: %d of %lld outputs off", what, k->isa, (long long)T,
                (long long)n_out, (long long)n_in, (int)acc, bad, (long long)(T * n_in));
      if (std::strcmp(k->isa, "scalar") != 0) {
        if (simd.empty()) simd = dx;
        else CHECK_MSG(same_bits(simd, dx), "%s: avx2 and avx512 differ (T=%lld)", what, (long long)T);
      }
      if (!threads) continue;
      for (int n : {1, 2, 3}) {
        std::vector<float> dxn(dx0);
        matmul_input_grad_with(*k, &pool(n), W, dy.data(), T, dxn.data(), acc);
        CHECK_MSG(same_bits(dx, dxn), "%s %s: %d threads differ from the unthreaded run", what, k->isa, n);
      }
    }
  }
}

// W's gradient equals, bit for bit, that of the F32 matrix of its get_row_f32 rows: the tile
// sees exactly those values, whatever the type.
void check_same_as_f32(const Tensor& W, int64_t T) {
  const int64_t n_in = W.ne[0], n_out = W.ne[1];
  std::vector<float> wf((size_t)(n_in * n_out));
  for (int64_t o = 0; o < n_out; o++) get_row_f32(W, o, wf.data() + o * n_in);
  const Tensor F = make_tensor("w_f32", DType::F32, wf.data(), n_in, n_out);
  const std::vector<float> dy = randn(T * n_out);
  for (const GradGemmKernels* k : grad_gemm_tables()) {
    std::vector<float> a((size_t)(T * n_in)), b((size_t)(T * n_in));
    matmul_input_grad_with(*k, &pool(2), W, dy.data(), T, a.data(), false);
    matmul_input_grad_with(*k, &pool(2), F, dy.data(), T, b.data(), false);
    CHECK_MSG(same_bits(a, b), "%s %s: differs from its get_row_f32 rows as F32", dtype_name(W.type), k->isa);
  }
}

void test_weight_types() {
  const DType types[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q8_0, DType::Q4_0,
                         DType::Q4_1, DType::Q4_K, DType::Q5_K, DType::Q6_K};
  for (DType t : types) {
    // 768 columns: three 256-column panels (a K-quant super-block each), and 2 threads split
    // them at 384, inside a super-block; 300 rows: two k slivers.
    const Weight w(t, 768, 300);
    for (int64_t T : {1, 7}) check_input_grad(w.W, T, true, dtype_name(t));
    check_same_as_f32(w.W, 5);
  }
}

void test_input_grad_shapes() {
  for (int64_t n_in : {1, 15, 16, 17, 64, 65, 300})
    for (int64_t n_out : {1, 5, 129, 257}) {
      const Weight w(DType::F32, n_in, n_out);
      for (int64_t T : {1, 6, 7, 13}) check_input_grad(w.W, T, n_in * n_out * T > 200000, "F32 shape");
    }
  const Weight tall(DType::F32, 20, 9);  // more tokens than one row pass
  check_input_grad(tall.W, 1100, true, "F32 many tokens");
}

void check_weight_grad(int64_t n_out, int64_t n_in, int64_t T) {
  const std::vector<float> dy = randn(T * n_out), x = randn(T * n_in), dW0 = randn(n_out * n_in);
  std::vector<double> ref((size_t)(n_out * n_in), 0.0), mag((size_t)(n_out * n_in), 0.0);
  for (int64_t t = 0; t < T; t++)
    for (int64_t o = 0; o < n_out; o++)
      for (int64_t i = 0; i < n_in; i++) {
        const double p = (double)dy[(size_t)(t * n_out + o)] * x[(size_t)(t * n_in + i)];
        ref[(size_t)(o * n_in + i)] += p;
        mag[(size_t)(o * n_in + i)] += std::fabs(p);
      }
  std::vector<float> simd;
  for (const GradGemmKernels* k : grad_gemm_tables()) {
    std::vector<float> dW(dW0);
    matmul_weight_grad_with(*k, nullptr, dy.data(), x.data(), T, n_out, n_in, dW.data());
    const int bad = count_far(dW, ref, mag, dW0.data(), T);
    CHECK_MSG(bad == 0, "weight grad %s [%lld x %lld] T=%lld: %d outputs off", k->isa, (long long)n_out,
              (long long)n_in, (long long)T, bad);
    if (std::strcmp(k->isa, "scalar") != 0) {
      if (simd.empty()) simd = dW;
      else CHECK_MSG(same_bits(simd, dW), "weight grad: avx2 and avx512 differ");
    }
    for (int n : {1, 2, 3}) {
      std::vector<float> dWn(dW0);
      matmul_weight_grad_with(*k, &pool(n), dy.data(), x.data(), T, n_out, n_in, dWn.data());
      CHECK_MSG(same_bits(dW, dWn), "weight grad %s: %d threads differ", k->isa, n);
    }
  }
}

void test_weight_grad() {
  check_weight_grad(1, 1, 1);
  check_weight_grad(7, 33, 5);
  check_weight_grad(8, 700, 300);  // LoRA A: rank rows, many columns, two k slivers
  check_weight_grad(300, 8, 300);  // LoRA B: many rows, rank columns
  check_weight_grad(65, 130, 257);
}

// The public entry points run the best table, which is the one cpu_features() names.
void test_dispatch() {
  const GradGemmKernels& best = grad_gemm_kernels();
  CHECK_MSG(std::strcmp(best.isa, cpu_features().best_name()) == 0, "best table %s, cpu %s", best.isa,
            cpu_features().best_name());
  const Weight w(DType::Q4_0, 256, 70);
  const int64_t T = 11;
  const std::vector<float> dy = randn(T * 70), x = randn(T * 256);
  std::vector<float> a((size_t)(T * 256)), b((size_t)(T * 256)), ga(70 * 256, 0.0f), gb(70 * 256, 0.0f);
  matmul_input_grad(&pool(2), w.W, dy.data(), T, a.data(), false);
  matmul_input_grad_with(best, nullptr, w.W, dy.data(), T, b.data(), false);
  CHECK(same_bits(a, b));
  matmul_weight_grad(&pool(2), dy.data(), x.data(), T, 70, 256, ga.data());
  matmul_weight_grad_with(best, nullptr, dy.data(), x.data(), T, 70, 256, gb.data());
  CHECK(same_bits(ga, gb));
  // A weight type the CPU cannot read (Q5_0 has no kernels yet): the gradient is NaN, not
  // silently 0.
  if (quant::quant_kernels((quant::QuantType)(uint32_t)DType::Q5_0)) return;
  std::vector<uint8_t> q5(22 * 2 * 2, 0);  // 2 rows of 2 Q5_0 blocks (22 bytes per 32 values)
  const Tensor W5 = make_tensor("q5", DType::Q5_0, q5.data(), 64, 2);
  std::vector<float> d5(3 * 64, 0.0f);
  matmul_input_grad(nullptr, W5, dy.data(), 3, d5.data(), true);
  bool all_nan = true;
  for (float v : d5) all_nan &= std::isnan(v);
  CHECK(all_nan);
}

// The MFU denominator: a rate, finite and in a sane range (one slow core of an old CPU does
// ~1e9 FLOP/s; nothing this runs on does 1e14).
void test_gemm_peak() {
  const double flops = measure_gemm_flops(pool(2), 0.05);
  std::printf("measured F32 GEMM: %.1f GFLOP/s (2 threads)\n", flops * 1e-9);
  CHECK_MSG(std::isfinite(flops) && flops > 1e8 && flops < 1e14, "measure_gemm_flops = %g", flops);
}

}  // namespace

int main() {
  std::printf("tables:");
  for (const GradGemmKernels* k : grad_gemm_tables()) std::printf(" %s", k->isa);
  std::printf("\n");
  test_weight_types();
  test_input_grad_shapes();
  test_weight_grad();
  test_dispatch();
  test_gemm_peak();
  return pdtest::finish("test_matmul_grad");
}
