#include "backend/cpu/ops.h"

#include <cmath>

namespace paddock {

void rmsnorm(float* out, const float* x, const float* w, int64_t n, float eps) {
  float ss = 0.0f;
  for (int64_t j = 0; j < n; j++) ss += x[j] * x[j];
  ss /= (float)n;
  ss += eps;
  ss = 1.0f / std::sqrt(ss);
  for (int64_t j = 0; j < n; j++) out[j] = w[j] * (ss * x[j]);
}

void softmax(float* x, int64_t n) {
  float max_val = x[0];
  for (int64_t i = 1; i < n; i++)
    if (x[i] > max_val) max_val = x[i];
  float sum = 0.0f;
  for (int64_t i = 0; i < n; i++) {
    x[i] = std::exp(x[i] - max_val);
    sum += x[i];
  }
  for (int64_t i = 0; i < n; i++) x[i] /= sum;
}

void silu_mul(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    float v = gate[i];
    v *= 1.0f / (1.0f + std::exp(-v));
    gate[i] = v * up[i];
  }
}

void rope_angles(int64_t pos, int head_dim, float theta, const float* freq_factors, float linear_factor,
                 float* cos_out, float* sin_out) {
  const float p = (float)pos / linear_factor;  // exact for factor 1 (and any power of two)
  for (int i = 0; i < head_dim / 2; i++) {
    float freq = 1.0f / std::pow(theta, (float)(2 * i) / (float)head_dim);
    if (freq_factors) freq /= freq_factors[i];
    const float val = p * freq;
    cos_out[i] = std::cos(val);
    sin_out[i] = std::sin(val);
  }
}

template <class R>
void rope_apply(R* x, int n_heads, int head_dim, const R* cos_v, const R* sin_v) {
  for (int h = 0; h < n_heads; h++) {
    R* v = x + (int64_t)h * head_dim;
    for (int i = 0; i < head_dim / 2; i++) {
      const R v0 = v[2 * i], v1 = v[2 * i + 1];
      v[2 * i] = v0 * cos_v[i] - v1 * sin_v[i];
      v[2 * i + 1] = v0 * sin_v[i] + v1 * cos_v[i];
    }
  }
}
template void rope_apply<float>(float*, int, int, const float*, const float*);
template void rope_apply<double>(double*, int, int, const double*, const double*);

}  // namespace paddock
