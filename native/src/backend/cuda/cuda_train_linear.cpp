#include "backend/cuda/cuda_train_linear.h"

#include <algorithm>

#include "backend/cuda/cuda_train_rows.h"
#include "backend/cuda/gemm.h"
#include "backend/cuda/quant_ops.h"

namespace paddock {

using pd_cuda::Elem;
using pd_cuda::GemmOp;

namespace {

// Rows [row0, row0 + rows) of a non-BF16 matrix in BF16, in the scratch (reused when held).
const pd_bf16* dequantized_slab(const GpuLinearContext& ctx, const TrainMatrix& w, int64_t row0, int64_t rows) {
  WeightScratch& ws = *ctx.weights;
  if (ws.held != w.data || ws.held_row0 != row0 || ws.held_rows != rows) {
    pd_cuda::dequantize_rows(w.type, w.data, row0, rows, w.cols, Elem::BF16, ws.data, ctx.stream);
    ws.held = w.data, ws.held_row0 = row0, ws.held_rows = rows;
    ws.dequantized_slabs++;
  }
  return ws.data;
}

pd_cuda::GemmDesc bf16_desc(int op, int64_t M, int64_t N, int64_t K, const pd_bf16* A, int64_t lda, const pd_bf16* B,
                            int64_t ldb, void* C, bool c_bf16, int64_t ldc, float alpha, float beta) {
  pd_cuda::GemmDesc d;
  d.op = (GemmOp)op;
  d.ab = Elem::BF16;
  d.c = c_bf16 ? Elem::BF16 : Elem::F32;
  d.M = M, d.N = N, d.K = K;
  d.A = A, d.lda = lda;
  d.B = B, d.ldb = ldb;
  d.C = C, d.ldc = ldc;
  d.alpha = alpha, d.beta = beta;
  return d;
}
}  // namespace

void gemm_bf16(pd_stream_t s, int op, int64_t M, int64_t N, int64_t K, const pd_bf16* A, int64_t lda,
               const pd_bf16* B, int64_t ldb, void* C, bool c_bf16, int64_t ldc, float alpha, float beta) {
  if (M <= 0 || N <= 0 || K <= 0) return;
  pd_cuda::gemm(bf16_desc(op, M, N, K, A, lda, B, ldb, C, c_bf16, ldc, alpha, beta), s);
}

namespace {
constexpr int NT = (int)GemmOp::NT, NN = (int)GemmOp::NN, TN = (int)GemmOp::TN;

// A LoRA rank product (M or N is the rank, K is T or a matrix width): split-K when thin.
void gemm_rank(const GpuLinearContext& ctx, int op, int64_t M, int64_t N, int64_t K, const pd_bf16* A, int64_t lda,
               const pd_bf16* B, int64_t ldb, void* C, bool c_bf16, int64_t ldc, float alpha, float beta) {
  if (M <= 0 || N <= 0 || K <= 0) return;
  const pd_cuda::GemmDesc d = bf16_desc(op, M, N, K, A, lda, B, ldb, C, c_bf16, ldc, alpha, beta);
  const int slices = ctx.splitk ? pd_cuda::splitk_slices(d, ctx.splitk_sm_count, ctx.splitk_elements,
                                                         ctx.splitk_min_slice_k)
                                : 1;
  pd_cuda::gemm_splitk(d, slices, ctx.splitk, ctx.stream);
}
}  // namespace

void weight_product_nt(const GpuLinearContext& ctx, const TrainMatrix& w, const pd_bf16* x, int64_t T, float* y,
                       int64_t ldy, bool accumulate) {
  const float beta = accumulate ? 1.0f : 0.0f;
  if (w.bf16) {
    gemm_bf16(ctx.stream, NT, T, w.rows, w.cols, x, w.cols, w.bf16, w.cols, y, false, ldy, 1.0f, beta);
    return;
  }
  // one GEMM per slab of output columns
  const int64_t slab = weight_slab_rows(w.rows, w.cols, ctx.weights->slab_elements);
  for (int64_t r0 = 0; r0 < w.rows; r0 += slab) {
    const int64_t rows = std::min(slab, w.rows - r0);
    const pd_bf16* W = dequantized_slab(ctx, w, r0, rows);
    gemm_bf16(ctx.stream, NT, T, rows, w.cols, x, w.cols, W, w.cols, y + r0, false, ldy, 1.0f, beta);
  }
}

void weight_product_nn(const GpuLinearContext& ctx, const TrainMatrix& w, const pd_bf16* dy, int64_t lddy, int64_t T,
                       float* dx, bool accumulate) {
  if (w.bf16) {
    gemm_bf16(ctx.stream, NN, T, w.cols, w.rows, dy, lddy, w.bf16, w.cols, dx, false, w.cols, 1.0f,
              accumulate ? 1.0f : 0.0f);
    return;
  }
  // K-split over slabs of W's rows: dx (+)= dy[:, slab] W[slab, :], adding from the second slab on
  const int64_t slab = weight_slab_rows(w.rows, w.cols, ctx.weights->slab_elements);
  for (int64_t r0 = 0; r0 < w.rows; r0 += slab) {
    const int64_t rows = std::min(slab, w.rows - r0);
    const pd_bf16* W = dequantized_slab(ctx, w, r0, rows);
    gemm_bf16(ctx.stream, NN, T, w.cols, rows, dy + r0, lddy, W, w.cols, dx, false, w.cols, 1.0f,
              accumulate || r0 > 0 ? 1.0f : 0.0f);
  }
}

void linear_forward(const GpuLinearContext& ctx, const GpuLinear& m, const pd_bf16* x, int64_t T, float* y,
                    pd_bf16* z_saved) {
  pd_stream_t s = ctx.stream;
  weight_product_nt(ctx, m.w, x, T, y, m.n_out, false);
  if (m.lora_a < 0) return;
  const int64_t r = ctx.rank;
  const pd_bf16* xin = x;
  if (ctx.dropout > 0.0f) {
    pd_cuda::lora_dropout_bf16(x, T, m.n_in, ctx.dropout_seed, m.dropout_stream, ctx.dropout, ctx.drop_x, s);
    xin = ctx.drop_x;
  }
  // z = scale * x A^T [T, r], kept for backward; y += z B^T
  gemm_rank(ctx, NT, T, r, m.n_in, xin, m.n_in, ctx.params->value_bf16(m.lora_a), m.n_in, z_saved, true, r,
            ctx.lora_scale, 0.0f);
  gemm_bf16(s, NT, T, m.n_out, r, z_saved, r, ctx.params->value_bf16(m.lora_b), r, y, false, m.n_out, 1.0f, 1.0f);
}

void linear_backward(const GpuLinearContext& ctx, const GpuLinear& m, const pd_bf16* x, const pd_bf16* z_saved,
                     const pd_bf16* dy, int64_t T, float* dx, bool accumulate) {
  pd_stream_t s = ctx.stream;
  weight_product_nn(ctx, m.w, dy, m.n_out, T, dx, accumulate);
  if (m.param >= 0)  // dW [n_out, n_in] += dy^T x
    gemm_bf16(s, TN, m.n_out, m.n_in, T, dy, m.n_out, x, m.n_in, ctx.params->grad(m.param), false, m.n_in, 1.0f,
              1.0f);
  if (m.lora_a < 0) return;
  const int64_t r = ctx.rank;
  // dB [n_out, r] += dy^T z; dz [T, r] = scale * dy B
  gemm_rank(ctx, TN, m.n_out, r, T, dy, m.n_out, z_saved, r, ctx.params->grad(m.lora_b), false, r, 1.0f, 1.0f);
  gemm_rank(ctx, NN, T, r, m.n_out, dy, m.n_out, ctx.params->value_bf16(m.lora_b), r, ctx.dz, true, r, ctx.lora_scale,
            0.0f);
  const pd_bf16* A = ctx.params->value_bf16(m.lora_a);
  if (ctx.dropout <= 0.0f) {
    // dA [r, n_in] += dz^T x; dx += dz A
    gemm_rank(ctx, TN, r, m.n_in, T, ctx.dz, r, x, m.n_in, ctx.params->grad(m.lora_a), false, m.n_in, 1.0f, 1.0f);
    gemm_bf16(s, NN, T, m.n_in, r, ctx.dz, r, A, m.n_in, dx, false, m.n_in, 1.0f, 1.0f);
    return;
  }
  pd_cuda::lora_dropout_bf16(x, T, m.n_in, ctx.dropout_seed, m.dropout_stream, ctx.dropout, ctx.drop_x, s);
  gemm_rank(ctx, TN, r, m.n_in, T, ctx.dz, r, ctx.drop_x, m.n_in, ctx.params->grad(m.lora_a), false, m.n_in, 1.0f,
            1.0f);
  // dx += dropout'(dz A): the same mask and 1 / (1 - p) on the gradient
  gemm_bf16(s, NN, T, m.n_in, r, ctx.dz, r, A, m.n_in, ctx.lora_tmp, false, m.n_in, 1.0f, 0.0f);
  pd_cuda::lora_dropout_add_f32(ctx.lora_tmp, T, m.n_in, ctx.dropout_seed, m.dropout_stream, ctx.dropout, dx, s);
}

}  // namespace paddock
