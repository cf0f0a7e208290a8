// Many-row quant products (quant_matvec / quant_matmul and the gemv / gemm kernels behind them
// on AVX-512 VNNI) against one-row dots, for every weight type, odd row counts and batch sizes
// 1, 3, 17, 64; and matmul_quant_group against separate matmul_quant calls, on 1 and 2 threads.
// Contracts checked:
//   - every output is bit-identical to the ISA's own vec_dot on that row and token;
//   - where the ISA has the reference-order kernels (Q4_0, Q8_0 on AVX-512), bit-identical to the
//     scalar reference too; otherwise within 1e-5 of sum |w||a| (float accumulation order);
//   - splitting the rows into ranges (threads) changes no bit.
// Exits non-zero on any failure; the last line is "N passed, M failed".
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "../src/backend/cpu/matmul_quant.h"
#include "../src/backend/cpu/quant.h"
#include "../src/backend/cpu/quant_matvec.h"
#include "../src/backend/cpu/threadpool.h"

using namespace paddock::quant;

namespace {

int g_pass = 0, g_fail = 0;

void check(bool ok, const char* what, const char* detail) {
  if (ok) {
    g_pass++;
  } else {
    g_fail++;
    std::printf("FAIL %s %s\n", what, detail);
  }
}

std::vector<float> gaussian(size_t n, uint64_t seed, float sigma) {
  std::vector<float> v(n);
  uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;
  for (float& x : v) {  // sum of 4 uniforms: close enough to Gaussian for kernel tests
    float a = 0;
    for (int k = 0; k < 4; k++) a += float((s = s * 6364136223846793005ull + 1442695040888963407ull) >> 40) / 16777216.0f;
    x = sigma * (a - 2.0f) * 1.7f;
  }
  return v;
}

const QuantType kTypes[] = {QuantType::Q4_0, QuantType::Q4_1, QuantType::Q8_0,
                            QuantType::Q4_K, QuantType::Q5_K, QuantType::Q6_K};

// Types whose best kernels follow the scalar reference's exact operation order.
bool reference_order(QuantType t) {
  if (quant_best_isa() != QuantIsa::AVX512) return quant_best_isa() == QuantIsa::Scalar;
  return quant_kernels(t)->gemm != nullptr;
}

struct Case {
  QuantType type;
  int rows, cols, T;
  std::vector<uint8_t> W, act;
  std::vector<float> x;
  size_t wrb, arb;

  Case(QuantType t, int rows_, int cols_, int T_, uint64_t seed) : type(t), rows(rows_), cols(cols_), T(T_) {
    const std::vector<float> wf = gaussian(size_t(rows) * cols, seed, 0.05f);
    x = gaussian(size_t(T) * cols, seed + 1, 1.0f);
    wrb = quant_row_size(t, cols);
    arb = quant_act_row_size(t, cols);
    W.resize(wrb * rows);
    quant_kernels_isa(t, QuantIsa::Scalar)->from_float(wf.data(), W.data(), int64_t(rows) * cols);
    act.resize(arb * T);
    quant_prepare_act(t, x.data(), cols, T, act.data());
  }

  // Y[t][r] for rows [r0, r1) written into Y (full [T][rows] layout).
  void run(float* Y, int r0, int r1) const {
    if (T == 1) {
      quant_matvec(type, W.data(), rows, cols, x.data(), Y, r0, r1, act.data());
    } else {
      quant_matmul(type, W.data(), rows, cols, x.data(), T, Y, r0, r1, act.data());
    }
  }
};

void test_rows_against_dots() {
  for (QuantType t : kTypes) {
    const QuantKernels* best = quant_kernels(t);
    const QuantKernels* ref = quant_kernels_isa(t, QuantIsa::Scalar);
    const bool exact_ref = reference_order(t);
    for (int rows : {1, 7, 37}) {
      for (int T : {1, 3, 17, 64}) {
        const int cols = (rows == 7 ? 768 : 512);
        const Case c(t, rows, cols, T, uint64_t(rows * 100 + T));
        std::vector<float> Y(size_t(rows) * T, -1.0f), Ys(size_t(rows) * T, -2.0f);
        c.run(Y.data(), 0, rows);
        const int cut = rows / 3;  // an uneven "two threads" split
        c.run(Ys.data(), 0, cut);
        c.run(Ys.data(), cut, rows);
        bool same_split = std::memcmp(Y.data(), Ys.data(), Y.size() * 4) == 0;
        bool same_dot = true, same_ref = true, close_ref = true;
        for (int a = 0; a < T; a++) {
          const uint8_t* act = c.act.data() + size_t(a) * c.arb;
          for (int r = 0; r < rows; r++) {
            const uint8_t* w = c.W.data() + size_t(r) * c.wrb;
            const float got = Y[size_t(a) * rows + r];
            const float one = best->vec_dot(cols, w, act), s = ref->vec_dot(cols, w, act);
            same_dot = same_dot && std::memcmp(&got, &one, 4) == 0;
            same_ref = same_ref && std::memcmp(&got, &s, 4) == 0;
            std::vector<float> wd(cols), ad(cols);
            ref->to_float(w, wd.data(), cols);
            quant_kernels_isa(ref->vec_dot_type, QuantIsa::Scalar)->to_float(act, ad.data(), cols);
            double mag = 0;
            for (int i = 0; i < cols; i++) mag += std::fabs(double(wd[i]) * ad[i]);
            close_ref = close_ref && std::fabs(double(got) - s) <= 1e-5 * mag;
          }
        }
        char msg[96];
        std::snprintf(msg, sizeof msg, "%s rows=%d T=%d isa=%s", quant_type_info(t)->name, rows, T,
                      quant_isa_name(quant_best_isa()));
        check(same_split, "row split changes no bit", msg);
        check(same_dot, "many-row output == vec_dot bit for bit", msg);
        check(close_ref, "many-row output within 1e-5 of the scalar reference", msg);
        if (exact_ref) check(same_ref, "reference-order kernels == scalar reference bit for bit", msg);
      }
    }
  }
}

// Q (Q4_K), K (Q6_K), V (Q8_0)-like trio with one ne[0]: the group call equals separate calls.
void test_group() {
  const int cols = 512;
  const QuantType types[] = {QuantType::Q4_K, QuantType::Q6_K, QuantType::Q8_0, QuantType::Q4_0};
  const int rows[] = {48, 17, 33, 64};
  for (int T : {1, 3, 17, 64}) {
    std::vector<std::vector<uint8_t>> data(4);
    std::vector<paddock::Tensor> W(4);
    for (int i = 0; i < 4; i++) {
      const std::vector<float> wf = gaussian(size_t(rows[i]) * cols, 900 + i, 0.05f);
      data[i].resize(quant_row_size(types[i], cols) * rows[i]);
      quant_kernels_isa(types[i], QuantIsa::Scalar)->from_float(wf.data(), data[i].data(), int64_t(rows[i]) * cols);
      W[i] = paddock::make_tensor("w", (paddock::DType)(uint32_t)types[i], data[i].data(), cols, rows[i]);
    }
    const std::vector<float> x = gaussian(size_t(T) * cols, 7 + T, 1.0f);
    for (int threads : {1, 2}) {
      paddock::ThreadPool pool(threads);
      std::vector<std::vector<float>> sep(4), grp(4);
      const paddock::Tensor* wp[4];
      float* yp[4];
      for (int i = 0; i < 4; i++) {
        sep[i].assign(size_t(rows[i]) * T, -1.0f);
        grp[i].assign(size_t(rows[i]) * T, -2.0f);
        paddock::matmul_quant(&pool, W[i], x.data(), T, sep[i].data());
        wp[i] = &W[i];
        yp[i] = grp[i].data();
      }
      paddock::matmul_quant_group(&pool, wp, yp, 4, x.data(), T);
      bool same = true;
      for (int i = 0; i < 4; i++) same = same && std::memcmp(sep[i].data(), grp[i].data(), sep[i].size() * 4) == 0;
      char msg[64];
      std::snprintf(msg, sizeof msg, "T=%d threads=%d", T, threads);
      check(same, "matmul_quant_group == separate matmul_quant calls, bit for bit", msg);
    }
  }
}

}  // namespace

int main() {
  std::printf("quant rows: best ISA %s\n", quant_isa_name(quant_best_isa()));
  test_rows_against_dots();
  test_group();
  std::printf("%d passed, %d failed\n", g_pass, g_fail);
  return g_fail ? 1 : 0;
}
