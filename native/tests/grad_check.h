// Helpers of the gradient tests: central finite differences and the relative error they are
// judged by, max|got - want| / max(max|want|, floor) over a whole tensor. The floor keeps a
// tensor whose gradient is (nearly) zero from turning round-off into a huge ratio.
#pragma once

#include <cmath>
#include <cstddef>
#include <random>
#include <vector>

namespace pdtest {

inline double rel_error(const double* got, const double* want, size_t n, double floor = 1e-3) {
  double diff = 0.0, mag = 0.0;
  for (size_t i = 0; i < n; i++) {
    diff = std::fmax(diff, std::fabs(got[i] - want[i]));
    mag = std::fmax(mag, std::fabs(want[i]));
  }
  return diff / std::fmax(mag, floor);
}
inline double rel_error(const std::vector<double>& got, const std::vector<double>& want, double floor = 1e-3) {
  return got.size() == want.size() ? rel_error(got.data(), want.data(), got.size(), floor) : INFINITY;
}

// d f / d x[i] by central differences. In double with eps 1e-5 the truncation error is
// ~eps^2 * f''' ~ 1e-10 and the round-off ~1e-16 * |f| / eps ~ 1e-11 for |f| ~ 1, far below
// the 1e-6 the tests require.
template <class F>
double central_diff(double* x, F&& f, double eps = 1e-5) {
  const double saved = *x;
  *x = saved + eps;
  const double fp = f();
  *x = saved - eps;
  const double fm = f();
  *x = saved;
  return (fp - fm) / (2.0 * eps);
}

inline std::vector<double> random_vec(std::mt19937& rng, size_t n, double sd = 1.0, double mean = 0.0) {
  std::normal_distribution<double> nd(mean, sd);
  std::vector<double> v(n);
  for (double& x : v) x = nd(rng);
  return v;
}

inline std::vector<float> to_float(const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); }
inline std::vector<double> to_double(const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); }

inline double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0.0;
  for (size_t i = 0; i < a.size() && i < b.size(); i++) s += a[i] * b[i];
  return s;
}

}  // namespace pdtest
