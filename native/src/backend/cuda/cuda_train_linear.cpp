#include "backend/cuda/cuda_train_linear.h"

#include "backend/cuda/cuda_train_rows.h"
#include "backend/cuda/gemm.h"
#include "backend/cuda/quant_ops.h"

namespace paddock {

using pd_cuda::Elem;
using pd_cuda::GemmOp;

const pd_bf16* weight_bf16(const GpuLinearContext& ctx, const DeviceMatrix& w) {
  if (w.bf16) return w.bf16;
  pd_cuda::dequantize_rows(w.type, w.data, 0, w.rows, w.cols, Elem::BF16, ctx.weight_scratch, ctx.stream);
  return ctx.weight_scratch;
}

void gemm_bf16(pd_stream_t s, int op, int64_t M, int64_t N, int64_t K, const pd_bf16* A, int64_t lda,
               const pd_bf16* B, int64_t ldb, void* C, bool c_bf16, int64_t ldc, float alpha, float beta) {
  if (M <= 0 || N <= 0 || K <= 0) return;
  pd_cuda::GemmDesc d;
  d.op = (GemmOp)op;
  d.ab = Elem::BF16;
  d.c = c_bf16 ? Elem::BF16 : Elem::F32;
  d.M = M, d.N = N, d.K = K;
  d.A = A, d.lda = lda;
  d.B = B, d.ldb = ldb;
  d.C = C, d.ldc = ldc;
  d.alpha = alpha, d.beta = beta;
  pd_cuda::gemm(d, s);
}

namespace {
constexpr int NT = (int)GemmOp::NT, NN = (int)GemmOp::NN, TN = (int)GemmOp::TN;
}

void linear_forward(const GpuLinearContext& ctx, const GpuLinear& m, const pd_bf16* x, int64_t T, float* y,
                    pd_bf16* z_saved) {
  pd_stream_t s = ctx.stream;
  const pd_bf16* W = weight_bf16(ctx, m.w);
  gemm_bf16(s, NT, T, m.n_out, m.n_in, x, m.n_in, W, m.n_in, y, false, m.n_out, 1.0f, 0.0f);
  if (m.lora_a < 0) return;
  const int64_t r = ctx.rank;
  const pd_bf16* xin = x;
  if (ctx.dropout > 0.0f) {
    pd_cuda::lora_dropout_bf16(x, T, m.n_in, ctx.dropout_seed, m.dropout_stream, ctx.dropout, ctx.drop_x, s);
    xin = ctx.drop_x;
  }
  // z = scale * x A^T [T, r], kept for backward; y += z B^T
  gemm_bf16(s, NT, T, r, m.n_in, xin, m.n_in, ctx.params->value_bf16(m.lora_a), m.n_in, z_saved, true, r,
            ctx.lora_scale, 0.0f);
  gemm_bf16(s, NT, T, m.n_out, r, z_saved, r, ctx.params->value_bf16(m.lora_b), r, y, false, m.n_out, 1.0f, 1.0f);
}

void linear_backward(const GpuLinearContext& ctx, const GpuLinear& m, const pd_bf16* x, const pd_bf16* z_saved,
                     const pd_bf16* dy, int64_t T, float* dx, bool accumulate) {
  pd_stream_t s = ctx.stream;
  const pd_bf16* W = weight_bf16(ctx, m.w);
  gemm_bf16(s, NN, T, m.n_in, m.n_out, dy, m.n_out, W, m.n_in, dx, false, m.n_in, 1.0f, accumulate ? 1.0f : 0.0f);
  if (m.param >= 0)  // dW [n_out, n_in] += dy^T x
    gemm_bf16(s, TN, m.n_out, m.n_in, T, dy, m.n_out, x, m.n_in, ctx.params->grad(m.param), false, m.n_in, 1.0f,
              1.0f);
  if (m.lora_a < 0) return;
  const int64_t r = ctx.rank;
  // dB [n_out, r] += dy^T z; dz [T, r] = scale * dy B
  gemm_bf16(s, TN, m.n_out, r, T, dy, m.n_out, z_saved, r, ctx.params->grad(m.lora_b), false, r, 1.0f, 1.0f);
  gemm_bf16(s, NN, T, r, m.n_out, dy, m.n_out, ctx.params->value_bf16(m.lora_b), r, ctx.dz, true, r, ctx.lora_scale,
            0.0f);
  const pd_bf16* A = ctx.params->value_bf16(m.lora_a);
  if (ctx.dropout <= 0.0f) {
    // dA [r, n_in] += dz^T x; dx += dz A
    gemm_bf16(s, TN, r, m.n_in, T, ctx.dz, r, x, m.n_in, ctx.params->grad(m.lora_a), false, m.n_in, 1.0f, 1.0f);
    gemm_bf16(s, NN, T, m.n_in, r, ctx.dz, r, A, m.n_in, dx, false, m.n_in, 1.0f, 1.0f);
    return;
  }
  pd_cuda::lora_dropout_bf16(x, T, m.n_in, ctx.dropout_seed, m.dropout_stream, ctx.dropout, ctx.drop_x, s);
  gemm_bf16(s, TN, r, m.n_in, T, ctx.dz, r, ctx.drop_x, m.n_in, ctx.params->grad(m.lora_a), false, m.n_in, 1.0f, 1.0f);
  // dx += dropout'(dz A): the same mask and 1 / (1 - p) on the gradient
  gemm_bf16(s, NN, T, m.n_in, r, ctx.dz, r, A, m.n_in, ctx.lora_tmp, false, m.n_in, 1.0f, 0.0f);
  pd_cuda::lora_dropout_add_f32(ctx.lora_tmp, T, m.n_in, ctx.dropout_seed, m.dropout_stream, ctx.dropout, dx, s);
}

}  // namespace paddock
