#include "backend/cpu/ops_grad.h"

#include <cmath>

#include "backend/cpu/ops.h"

namespace paddock {

template <class R>
R rmsnorm_forward(R* out, const R* x, const R* w, int64_t n, R eps) {
  // Same order of operations as ops.h rmsnorm, so the float form gives its bits.
  R ss = 0;
  for (int64_t j = 0; j < n; j++) ss += x[j] * x[j];
  ss /= (R)n;
  ss += eps;
  const R rstd = R(1) / std::sqrt(ss);
  for (int64_t j = 0; j < n; j++) out[j] = w[j] * (rstd * x[j]);
  return rstd;
}

template <class R>
void rmsnorm_backward(R* dx, const R* dy, const R* x, const R* w, R rstd, int64_t n, bool accumulate) {
  R dot = 0;  // sum_j dy_j w_j x_j
  for (int64_t j = 0; j < n; j++) dot += dy[j] * w[j] * x[j];
  const R c = rstd * rstd * dot / (R)n;
  for (int64_t j = 0; j < n; j++) {
    const R g = rstd * (dy[j] * w[j] - x[j] * c);
    dx[j] = accumulate ? dx[j] + g : g;
  }
}

template <class R>
void rmsnorm_weight_grad(R* dw, const R* dy, const R* x, const R* rstd, int64_t T, int64_t n, int64_t j0, int64_t j1) {
  for (int64_t t = 0; t < T; t++) {
    const R* dyr = dy + t * n;
    const R* xr = x + t * n;
    const R r = rstd[t];
    for (int64_t j = j0; j < j1; j++) dw[j] += dyr[j] * (xr[j] * r);
  }
}

template <>
void rope_angles_r<float>(int64_t pos, int head_dim, float theta, const float* freq_factors, float linear_factor,
                          float* cos_out, float* sin_out) {
  rope_angles(pos, head_dim, theta, freq_factors, linear_factor, cos_out, sin_out);
}

template <>
void rope_angles_r<double>(int64_t pos, int head_dim, float theta, const float* freq_factors, float linear_factor,
                           double* cos_out, double* sin_out) {
  const double p = (double)pos / (double)linear_factor;
  for (int i = 0; i < head_dim / 2; i++) {
    double freq = 1.0 / std::pow((double)theta, (double)(2 * i) / (double)head_dim);
    if (freq_factors) freq /= (double)freq_factors[i];
    cos_out[i] = std::cos(p * freq);
    sin_out[i] = std::sin(p * freq);
  }
}

template <class R>
void rope_backward(R* dx, int n_heads, int head_dim, const R* cos_v, const R* sin_v) {
  for (int h = 0; h < n_heads; h++) {
    R* v = dx + (int64_t)h * head_dim;
    for (int i = 0; i < head_dim / 2; i++) {
      const R d0 = v[2 * i], d1 = v[2 * i + 1];
      v[2 * i] = d0 * cos_v[i] + d1 * sin_v[i];
      v[2 * i + 1] = d1 * cos_v[i] - d0 * sin_v[i];
    }
  }
}

template <class R>
void swiglu_forward(R* h, const R* g, const R* u, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    R v = g[i];
    v *= R(1) / (R(1) + std::exp(-v));
    h[i] = v * u[i];
  }
}

template <class R>
void swiglu_backward(R* dg, R* du, const R* dh, const R* g, const R* u, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    const R s = R(1) / (R(1) + std::exp(-g[i]));
    const R silu = g[i] * s;
    const R d = dh[i];
    du[i] = d * silu;
    dg[i] = d * u[i] * (s * (R(1) + g[i] * (R(1) - s)));
  }
}

template <class R>
void embedding_backward(R* dE, const R* dx, const int32_t* tokens, int64_t T, int64_t dim, int64_t v0, int64_t v1) {
  for (int64_t t = 0; t < T; t++) {
    const int64_t id = tokens[t];
    if (id < v0 || id >= v1) continue;
    R* d = dE + id * dim;
    const R* g = dx + t * dim;
    for (int64_t j = 0; j < dim; j++) d[j] += g[j];
  }
}

template <class R>
double cross_entropy_backward(R* dlogits, const R* logits, int64_t V, int32_t target, R w, R scale) {
  if (w == R(0)) {  // a masked position: no work, and exactly no gradient
    for (int64_t i = 0; i < V; i++) dlogits[i] = R(0);
    return 0.0;
  }
  R mx = logits[0];
  for (int64_t i = 1; i < V; i++) mx = logits[i] > mx ? logits[i] : mx;
  const R at_target = logits[target];
  double sum = 0.0;  // in double: the loss is reported to 1e-6 and summed over many tokens
  for (int64_t i = 0; i < V; i++) {
    const R e = std::exp(logits[i] - mx);
    dlogits[i] = e;
    sum += (double)e;
  }
  const R f = (R)((double)(scale * w) / sum);
  for (int64_t i = 0; i < V; i++) dlogits[i] *= f;
  dlogits[target] -= scale * w;
  return (double)w * ((double)mx + std::log(sum) - (double)at_target);
}

template <class R>
double cross_entropy_loss(const R* logits, int64_t V, int32_t target) {
  R mx = logits[0];
  for (int64_t i = 1; i < V; i++) mx = logits[i] > mx ? logits[i] : mx;
  double sum = 0.0;
  for (int64_t i = 0; i < V; i++) sum += (double)std::exp(logits[i] - mx);
  return (double)mx + std::log(sum) - (double)logits[target];
}

#define PD_INSTANTIATE_OPS_GRAD(R)                                                                          \
  template R rmsnorm_forward<R>(R*, const R*, const R*, int64_t, R);                                         \
  template void rmsnorm_backward<R>(R*, const R*, const R*, const R*, R, int64_t, bool);                    \
  template void rmsnorm_weight_grad<R>(R*, const R*, const R*, const R*, int64_t, int64_t, int64_t, int64_t); \
  template void rope_backward<R>(R*, int, int, const R*, const R*);                                          \
  template void swiglu_forward<R>(R*, const R*, const R*, int64_t);                                          \
  template void swiglu_backward<R>(R*, R*, const R*, const R*, const R*, int64_t);                          \
  template void embedding_backward<R>(R*, const R*, const int32_t*, int64_t, int64_t, int64_t, int64_t);    \
  template double cross_entropy_backward<R>(R*, const R*, int64_t, int32_t, R, R);                          \
  template double cross_entropy_loss<R>(const R*, int64_t, int32_t);

PD_INSTANTIATE_OPS_GRAD(float)
PD_INSTANTIATE_OPS_GRAD(double)

}  // namespace paddock
