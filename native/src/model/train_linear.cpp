#include "model/train_linear.h"

#include "backend/cpu/matmul_grad.h"
#include "backend/cpu/ops.h"
#include "core/splitmix.h"
#include "model/train_parallel.h"

namespace paddock {

namespace {

// Inverted dropout's keep decision for element (t, i) of one map's input: a pure function of
// its coordinates, so forward and backward (and any thread) agree without storing a mask.
bool dropout_keep(uint64_t seed, uint64_t stream, int64_t t, int64_t i, float p) {
  const uint64_t h = splitmix64(seed ^ splitmix64((stream << 48) ^ ((uint64_t)t << 24) ^ (uint64_t)i));
  return (double)(h >> 11) * (1.0 / 9007199254740992.0) >= (double)p;
}

// out = dropout(x) [T, n] for one map (or, with `add`, out += dropout(x)).
template <class R>
void apply_dropout(const LinearContext<R>& ctx, uint64_t stream, const R* x, int64_t T, int64_t n, R* out, bool add) {
  const R inv = R(1) / (R(1) - (R)ctx.dropout);
  for_each_row(ctx.pool, T, (double)T * n * 8, [&](int64_t t) {
    for (int64_t i = 0; i < n; i++) {
      const R v = dropout_keep(ctx.dropout_seed, stream, t, i, ctx.dropout) ? x[t * n + i] * inv : R(0);
      out[t * n + i] = add ? out[t * n + i] + v : v;
    }
  });
}

}  // namespace

template <>
void dense_forward<float>(ThreadPool* pool, const Tensor* const* W, float* const* y, int n, const float* x, int64_t T) {
  matmul_group(pool, W, y, n, x, T);
}

template <>
void dense_input_grad<float>(ThreadPool* pool, const Tensor& W, const float* dy, int64_t T, float* dx, bool accumulate) {
  matmul_input_grad(pool, W, dy, T, dx, accumulate);
}

template <>
void dense_weight_grad<float>(ThreadPool* pool, const float* dy, const float* x, int64_t T, int64_t n_out,
                              int64_t n_in, float* dW) {
  matmul_weight_grad(pool, dy, x, T, n_out, n_in, dW);
}

// Double: plain loops over F64 matrices, each output summed in index order by one thread.
template <>
void dense_forward<double>(ThreadPool* pool, const Tensor* const* W, double* const* y, int n, const double* x,
                           int64_t T) {
  for (int m = 0; m < n; m++) {
    const double* w = (const double*)W[m]->data;
    const int64_t n_in = W[m]->ne[0], n_out = W[m]->ne[1];
    for_each_row(pool, T, (double)n_in * n_out, [&](int64_t t) {
      for (int64_t o = 0; o < n_out; o++) {
        double s = 0.0;
        for (int64_t i = 0; i < n_in; i++) s += w[o * n_in + i] * x[t * n_in + i];
        y[m][t * n_out + o] = s;
      }
    });
  }
}

template <>
void dense_input_grad<double>(ThreadPool* pool, const Tensor& W, const double* dy, int64_t T, double* dx,
                              bool accumulate) {
  const double* w = (const double*)W.data;
  const int64_t n_in = W.ne[0], n_out = W.ne[1];
  for_each_row(pool, T, (double)n_in * n_out, [&](int64_t t) {
    double* d = dx + t * n_in;
    if (!accumulate)
      for (int64_t i = 0; i < n_in; i++) d[i] = 0.0;
    for (int64_t o = 0; o < n_out; o++) {
      const double g = dy[t * n_out + o];
      for (int64_t i = 0; i < n_in; i++) d[i] += g * w[o * n_in + i];
    }
  });
}

template <>
void dense_weight_grad<double>(ThreadPool* pool, const double* dy, const double* x, int64_t T, int64_t n_out,
                               int64_t n_in, double* dW) {
  for_each_row(pool, n_out, (double)T * n_in, [&](int64_t o) {
    double* d = dW + o * n_in;
    for (int64_t t = 0; t < T; t++) {
      const double g = dy[t * n_out + o];
      for (int64_t i = 0; i < n_in; i++) d[i] += g * x[t * n_in + i];
    }
  });
}

template <class R>
void linear_forward(const LinearContext<R>& ctx, const TrainLinear<R>* const* maps, R* const* y,
                    R* const* lora_saved, int n, const R* x, int64_t T) {
  const Tensor* W[4] = {};  // the graph groups at most three maps (q/k/v)
  for (int i = 0; i < n && i < 4; i++) W[i] = &maps[i]->w;
  dense_forward<R>(ctx.pool, W, y, n, x, T);
  for (int i = 0; i < n; i++) {
    const TrainLinear<R>& m = *maps[i];
    if (!m.lora_a) continue;
    const R* xin = x;
    if (ctx.dropout > 0.0f) {
      apply_dropout(ctx, m.dropout_stream, x, T, m.n_in, ctx.drop_x, false);
      xin = ctx.drop_x;
    }
    R* a = lora_saved[i];  // [T, rank]
    const int64_t rank = m.lora_a->rows;
    const Tensor* A = &m.a_view;
    dense_forward<R>(ctx.pool, &A, &a, 1, xin, T);
    for (int64_t j = 0; j < T * rank; j++) a[j] *= ctx.lora_scale;
    const Tensor* B = &m.b_view;
    R* tmp = ctx.tmp;
    dense_forward<R>(ctx.pool, &B, &tmp, 1, a, T);
    R* out = y[i];
    for_each_row(ctx.pool, T, (double)m.n_out, [&](int64_t t) {
      for (int64_t o = t * m.n_out; o < (t + 1) * m.n_out; o++) out[o] += tmp[o];
    });
  }
}

template <class R>
void linear_backward(const LinearContext<R>& ctx, const TrainLinear<R>& m, const R* x, const R* lora_saved,
                     const R* dy, int64_t T, R* dx, bool accumulate) {
  dense_input_grad<R>(ctx.pool, m.w, dy, T, dx, accumulate);
  if (m.param) dense_weight_grad<R>(ctx.pool, dy, x, T, m.n_out, m.n_in, m.param->grad.data());
  if (!m.lora_a) return;
  const int64_t rank = m.lora_a->rows;
  dense_weight_grad<R>(ctx.pool, dy, lora_saved, T, m.n_out, rank, m.lora_b->grad.data());
  R* dz = ctx.dz;  // [T, rank] = scale * dy B
  dense_input_grad<R>(ctx.pool, m.b_view, dy, T, dz, false);
  for (int64_t j = 0; j < T * rank; j++) dz[j] *= ctx.lora_scale;
  if (ctx.dropout <= 0.0f) {
    dense_weight_grad<R>(ctx.pool, dz, x, T, rank, m.n_in, m.lora_a->grad.data());
    dense_input_grad<R>(ctx.pool, m.a_view, dz, T, dx, true);
    return;
  }
  apply_dropout(ctx, m.dropout_stream, x, T, m.n_in, ctx.drop_x, false);
  dense_weight_grad<R>(ctx.pool, dz, ctx.drop_x, T, rank, m.n_in, m.lora_a->grad.data());
  // dx += dropout'(dz A): the same mask and 1/(1-p) applied to the gradient
  dense_input_grad<R>(ctx.pool, m.a_view, dz, T, ctx.drop_x, false);
  apply_dropout(ctx, m.dropout_stream, ctx.drop_x, T, m.n_in, dx, true);
}

template void linear_forward<float>(const LinearContext<float>&, const TrainLinear<float>* const*, float* const*,
                                    float* const*, int, const float*, int64_t);
template void linear_forward<double>(const LinearContext<double>&, const TrainLinear<double>* const*,
                                     double* const*, double* const*, int, const double*, int64_t);
template void linear_backward<float>(const LinearContext<float>&, const TrainLinear<float>&, const float*,
                                     const float*, const float*, int64_t, float*, bool);
template void linear_backward<double>(const LinearContext<double>&, const TrainLinear<double>&, const double*,
                                      const double*, const double*, int64_t, double*, bool);

}  // namespace paddock
