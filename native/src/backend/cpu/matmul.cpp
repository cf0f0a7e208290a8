// Matrix x activations on the CPU for float weights (quant types go to matmul_quant.cpp). Rows
// of W are split over threads; a thread takes its rows a panel at a time (half-precision rows
// converted to F32 once per call), and the table's gemm_f32 register-blocks rows x tokens over
// tiles of the activations. A single token (decode) takes the matvec kernels, which read
// half-precision rows directly.
#include <vector>

#include "backend/cpu/kernels.h"
#include "backend/cpu/matmul_quant.h"
#include "backend/cpu/ops.h"
#include "backend/cpu/quant.h"
#include "backend/cpu/threadpool.h"

namespace paddock {

// A panel of weight rows (as F32) and a tile of activations share L2 (2 MiB on the CPUs that
// matter most): ~512 KiB of rows, ~1 MiB of tokens.
static constexpr int64_t kPanelBytes = 512 * 1024, kTileBytes = 1024 * 1024;

// Rows per panel: a multiple of 4 (the AVX-512 block's height), at least 4.
static int64_t panel_rows(int64_t n_in) {
  const int64_t r = kPanelBytes / (n_in * (int64_t)sizeof(float));
  return r < 4 ? 4 : r - r % 4;
}

// Tokens per tile: T split into equal tiles of at most ~kTileBytes, each a multiple of 6 (the
// AVX-512 block's width) where possible, so no tile is a sliver.
static int64_t token_tile(int64_t n_in, int64_t T) {
  int64_t max_t = kTileBytes / (n_in * (int64_t)sizeof(float));
  if (max_t < 6) max_t = 6;
  const int64_t n_tiles = (T + max_t - 1) / max_t, t = (T + n_tiles - 1) / n_tiles;
  return t + (6 - t % 6) % 6;
}

// Rows [r0, r1) of y = W x: one panel of rows at a time (read from memory once, half-precision
// converted once: exact, and gemm_f32 on converted rows equals dot_f16 / dot_bf16 as kernels.h
// promises), every token tile passing by while the panel sits in L2.
static void matmul_rows(const CpuKernels& k, const Tensor& W, const float* x, int64_t T, float* y, int64_t r0,
                        int64_t r1) {
  const int64_t n_in = W.ne[0], n_out = W.ne[1];
  if (r1 <= r0) return;
  if (T == 1 && W.type != DType::F32) {  // decode: the matvec reads half-precision rows directly
    const uint16_t* w = (const uint16_t*)W.data + r0 * n_in;
    (W.type == DType::F16 ? k.matvec_f16 : k.matvec_bf16)(w, r1 - r0, x, n_in, y + r0);
    return;
  }
  const int64_t prows = panel_rows(n_in), tile = token_tile(n_in, T);
  thread_local std::vector<float> panel;
  if (W.type != DType::F32 && (int64_t)panel.size() < prows * n_in) panel.resize((size_t)(prows * n_in));
  for (int64_t r = r0; r < r1; r += prows) {
    const int64_t nr = r1 - r < prows ? r1 - r : prows;
    const float* w = panel.data();
    if (W.type == DType::F32) {
      w = (const float*)W.data + r * n_in;
    } else {
      const uint16_t* h = (const uint16_t*)W.data + r * n_in;
      (W.type == DType::F16 ? k.f16_to_f32 : k.bf16_to_f32)(h, panel.data(), nr * n_in);
    }
    for (int64_t t0 = 0; t0 < T; t0 += tile) {
      const int64_t nt = T - t0 < tile ? T - t0 : tile;
      k.gemm_f32(w, n_in, nr, x + t0 * n_in, n_in, nt, n_in, y + t0 * n_out + r, n_out);
    }
  }
}

void matmul_group(ThreadPool* pool, const Tensor* const* W, float* const* y, int n, const float* x, int64_t T) {
  int n_float = 0;
  for (int i = 0; i < n; i++) n_float += dtype_is_float(W[i]->type) ? 1 : 0;
  if (n_float == 0) {
    matmul_quant_group(pool, W, y, n, x, T);
    return;
  }
  if (n_float != n) {  // a mix of float and quant weights (unusual): one job per weight
    for (int i = 0; i < n; i++) matmul(pool, *W[i], x, T, y[i]);
    return;
  }
  const CpuKernels& k = cpu_kernels();
  double work = 0;
  for (int i = 0; i < n; i++) work += (double)W[i]->ne[0] * (double)W[i]->ne[1] * (double)T;
  if (!pool || pool->size() == 1 || work < kParallelMinWork) {
    for (int i = 0; i < n; i++) matmul_rows(k, *W[i], x, T, y[i], 0, W[i]->ne[1]);
    return;
  }
  // One job for the whole group: each thread takes its share of every weight's rows.
  pool->run([&](int ith, int nth) {
    for (int i = 0; i < n; i++) {
      int64_t r0, r1;
      split_range(W[i]->ne[1], ith, nth, &r0, &r1);
      matmul_rows(k, *W[i], x, T, y[i], r0, r1);
    }
  });
}

void matmul(ThreadPool* pool, const Tensor& W, const float* x, int64_t n_tokens, float* y) {
  const Tensor* w = &W;
  matmul_group(pool, &w, &y, 1, x, n_tokens);
}

void get_row_f32(const Tensor& W, int64_t row, float* out) {
  if (!dtype_is_float(W.type)) {
    const quant::QuantKernels* k = quant::quant_kernels((quant::QuantType)(uint32_t)W.type);
    if (k && k->to_float) k->to_float(W.row(row), out, W.ne[0]);
    return;
  }
  convert_to_f32(W.type, W.row(row), out, W.ne[0]);
}

bool row_from_f32(DType t, const float* x, void* out, int64_t n) {
  if (dtype_is_float(t)) return convert_from_f32(x, t, out, n);
  const quant::QuantKernels* k = quant::quant_kernels_isa((quant::QuantType)(uint32_t)t, quant::QuantIsa::Scalar);
  if (!k || !k->from_float || !k->vec_dot || n % dtype_block_size(t) != 0) return false;
  return k->from_float(x, out, n);
}

}  // namespace paddock
