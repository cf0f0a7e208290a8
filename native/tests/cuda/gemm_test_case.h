// One GEMM test case, shared by test_cuda_gemm.cpp (every kernel through gemm_with_tiles) and
// test_cuda_wgmma.cpp (the Hopper kernel forced): pd_cuda::gemm_with_tiles against a
// double-precision host product of the same (already rounded) inputs, so the only differences
// left are F32 accumulation order and the output's rounding.
// Honesty traps: operand padding (ld beyond the row) and A's shift hold NaN, so reading them
// shows; with beta 0, C starts as NaN (it must not be read); C's row padding holds a sentinel and
// guard bands surround every buffer: both must come back untouched.
#pragma once

#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

#include "backend/cuda/gemm.h"
#include "backend/cuda/gemm_wgmma.h"
#include "cuda_testing.h"
#include "gemm_test_matrix.h"

namespace cudatest {

struct GemmCase {
  pd_cuda::GemmOp op;
  pd_cuda::Elem ab, c;
  int M, N, K;
  int pad_a = 0, pad_b = 0, pad_c = 0;  // elements past the row length in each row
  float alpha = 1.0f, beta = 0.0f;
  pd_cuda::GemmTiles tiles = pd_cuda::GemmTiles::Auto;
  int shift_a = 0;  // elements A's base is moved (1: off 16-byte alignment)
};

inline const char* gemm_op_name(pd_cuda::GemmOp op) {
  return op == pd_cuda::GemmOp::NT ? "NT" : op == pd_cuda::GemmOp::NN ? "NN" : "TN";
}
inline const char* elem_name(pd_cuda::Elem e) {
  return e == pd_cuda::Elem::F32 ? "f32" : e == pd_cuda::Elem::BF16 ? "bf16" : "f16";
}
inline const char* tiles_name(pd_cuda::GemmTiles t) {
  using pd_cuda::GemmTiles;
  return t == GemmTiles::Auto ? "auto" : t == GemmTiles::Large128x128 ? "128x128" : t == GemmTiles::Small64x64 ? "64x64" : "wgmma";
}

// Normalized-MSE bound for an output type. Products of BF16/F16 values are exact in F32, so F32
// output differs from the double reference only by F32 summation (relative ~2^-24 a term: nmse
// ~1e-12); 1e-8 still fails for one dropped or doubled k term (nmse >= 1/K), a wrong swizzle
// chunk, or an operand wrongly rounded to 16 bits (~1e-6). BF16 output adds its rounding (2^-9
// relative: ~1e-6); F16 (2^-12: ~2e-8).
inline double gemm_nmse_bound(pd_cuda::Elem c) {
  return c == pd_cuda::Elem::F32 ? 1e-8 : c == pd_cuda::Elem::BF16 ? 1e-5 : 1e-6;
}

// Runs case k with fresh random operands from rng and checks C (values, padding, guard bands).
inline void check_gemm_case(const GemmCase& k, std::mt19937& rng) {
  using pd_cuda::GemmOp;
  const bool a_kmajor = k.op == GemmOp::TN, b_kmajor = k.op != GemmOp::NT;  // stored [K rows][...]
  const int a_rows = a_kmajor ? k.K : k.M, a_cols = a_kmajor ? k.M : k.K;
  const int b_rows = b_kmajor ? k.K : k.N, b_cols = b_kmajor ? k.N : k.K;
  const int64_t lda = a_cols + k.pad_a, ldb = b_cols + k.pad_b, ldc = k.N + k.pad_c;
  const HostMatrix a = random_matrix(k.ab, a_rows, a_cols, lda, k.shift_a, rng);
  const HostMatrix b = random_matrix(k.ab, b_rows, b_cols, ldb, 0, rng);
  // C: random where beta reads it; NaN where it must not be read; padding gets a sentinel.
  HostMatrix c0 = random_matrix(k.c, k.M, k.N, ldc, 0, rng);
  const float sentinel = -768.0f;  // exact in every type
  for (int r = 0; r < k.M; r++) {
    for (int col = 0; col < k.N && k.beta == 0.0f; col++) c0.set_nan((size_t)r * ldc + col);
    for (int col = k.N; col < ldc; col++) c0.set((size_t)r * ldc + col, sentinel);
  }

  std::vector<double> want((size_t)k.M * k.N);
  for (int m = 0; m < k.M; m++)
    for (int n = 0; n < k.N; n++) {
      double s = 0;
      for (int kk = 0; kk < k.K; kk++) {
        const double av = a.get(k.shift_a + (a_kmajor ? (size_t)kk * lda + m : (size_t)m * lda + kk));
        const double bv = b.get(b_kmajor ? (size_t)kk * ldb + n : (size_t)n * ldb + kk);
        s += av * bv;
      }
      const double cv = k.beta != 0.0f ? (double)k.beta * c0.get((size_t)m * ldc + n) : 0.0;
      want[(size_t)m * k.N + n] = (double)k.alpha * s + cv;
    }

  DeviceArray<unsigned char> da(a.bytes.size()), db(b.bytes.size()), dc(c0.bytes.size());
  da.upload(a.bytes);
  db.upload(b.bytes);
  dc.upload(c0.bytes);
  pd_cuda::GemmDesc d;
  d.op = k.op;
  d.ab = k.ab;
  d.c = k.c;
  d.M = k.M;
  d.N = k.N;
  d.K = k.K;
  d.A = da.get() + (size_t)k.shift_a * pd_cuda::elem_bytes(k.ab);
  d.lda = lda;
  d.B = db.get();
  d.ldb = ldb;
  d.C = dc.get();
  d.ldc = ldc;
  d.alpha = k.alpha;
  d.beta = k.beta;
  if (k.tiles == pd_cuda::GemmTiles::Wgmma) CHECK(pd_cuda::gemm_wgmma_supported(d));  // else Auto's choice runs
  pd_cuda::gemm_with_tiles(d, k.tiles, nullptr);
  CHECK(pd_gpu::check_launch("gemm") && pd_gpu::synchronize());

  HostMatrix got(k.c, c0.n);
  got.bytes = dc.download();
  std::vector<float> got_valid((size_t)k.M * k.N);
  bool padding_intact = true;
  for (int r = 0; r < k.M; r++) {
    for (int col = 0; col < k.N; col++) got_valid[(size_t)r * k.N + col] = got.get((size_t)r * ldc + col);
    for (int col = k.N; col < ldc; col++) padding_intact &= got.get((size_t)r * ldc + col) == sentinel;
  }
  char what[160];
  std::snprintf(what, sizeof what, "%s %s->%s %dx%dx%d ld+%d/%d/%d%s a%g b%g %s", gemm_op_name(k.op), elem_name(k.ab),
                elem_name(k.c), k.M, k.N, k.K, k.pad_a, k.pad_b, k.pad_c, k.shift_a ? " A+1" : "", k.alpha, k.beta,
                k.ab == pd_cuda::Elem::F32 ? "simt" : tiles_name(k.tiles));
  check_close(what, got_valid, want, gemm_nmse_bound(k.c));
  CHECK_MSG(padding_intact, "%s: C's row padding was written", what);
  CHECK_MSG(da.guards_intact() && db.guards_intact() && dc.guards_intact(), "%s: write outside a buffer", what);
}

}  // namespace cudatest
