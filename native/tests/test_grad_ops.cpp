// Every backward op of the training graph against central finite differences in double, and
// the float instantiation against the double one. Each op is checked through the scalar
// L = sum(c * op(inputs)) for a random cotangent c, so backward(c) must equal dL/dinputs.
// Relative error (grad_check.h): max|analytic - numeric| / max(max|numeric|, 1e-3) per tensor;
// double must be < 1e-6 (the bound). Float vs double: max-abs-diff / max-abs per tensor
// < kFloatTol (1e-5: float has 2^-24 ~ 6e-8 unit round-off and these ops chain at most a few
// dozen roundings per output, so the observed errors are 3e-8..2e-7 (printed); the bound leaves margin).
#include <cstring>
#include <random>
#include <vector>

#include "backend/cpu/attention_train.h"
#include "backend/cpu/ops.h"
#include "backend/cpu/ops_grad.h"
#include "backend/cpu/threadpool.h"
#include "grad_check.h"
#include "testing.h"

using namespace paddock;
using pdtest::central_diff;
using pdtest::rel_error;

static constexpr double kFdTol = 1e-6, kFloatTol = 1e-5;

static void check_rel(const char* what, const std::vector<double>& got, const std::vector<double>& want, double tol) {
  const double e = rel_error(got, want);
  std::printf("  %-28s %.2e\n", what, e);
  CHECK_MSG(e < tol, "%s: relative error %.3g (tolerance %.1g)", what, e, tol);
}

// Numeric gradient of f() over every entry of x.
template <class F>
static std::vector<double> numeric_grad(std::vector<double>& x, F&& f) {
  std::vector<double> g(x.size());
  for (size_t i = 0; i < x.size(); i++) g[i] = central_diff(&x[i], f);
  return g;
}

// ---- RMSNorm ----
template <class R>
static void rmsnorm_all(const std::vector<R>& x, const std::vector<R>& w, int64_t T, int64_t n, std::vector<R>* out,
                        std::vector<R>* rstd) {
  out->assign(x.size(), R(0));
  rstd->assign((size_t)T, R(0));
  for (int64_t t = 0; t < T; t++) (*rstd)[t] = rmsnorm_forward(out->data() + t * n, x.data() + t * n, w.data(), n, R(1e-5));
}

template <class R>
static void rmsnorm_grads(const std::vector<R>& x, const std::vector<R>& w, const std::vector<R>& c, int64_t T,
                          int64_t n, std::vector<R>* dx, std::vector<R>* dw) {
  std::vector<R> out, rstd;
  rmsnorm_all(x, w, T, n, &out, &rstd);
  dx->assign(x.size(), R(0));
  dw->assign((size_t)n, R(0));
  for (int64_t t = 0; t < T; t++)
    rmsnorm_backward(dx->data() + t * n, c.data() + t * n, x.data() + t * n, w.data(), rstd[t], n, false);
  // two column shares, as two threads would take them
  rmsnorm_weight_grad(dw->data(), c.data(), x.data(), rstd.data(), T, n, 0, n / 2);
  rmsnorm_weight_grad(dw->data(), c.data(), x.data(), rstd.data(), T, n, n / 2, n);
}

static void test_rmsnorm() {
  std::mt19937 rng(1);
  const int64_t T = 3, n = 11;
  std::vector<double> x = pdtest::random_vec(rng, T * n), w = pdtest::random_vec(rng, n, 0.2, 1.0);
  const std::vector<double> c = pdtest::random_vec(rng, T * n);
  std::vector<double> dx, dw;
  rmsnorm_grads(x, w, c, T, n, &dx, &dw);
  auto loss = [&] {
    std::vector<double> out, rstd;
    rmsnorm_all(x, w, T, n, &out, &rstd);
    return pdtest::dot(c, out);
  };
  check_rel("rmsnorm dx", dx, numeric_grad(x, loss), kFdTol);
  check_rel("rmsnorm dw", dw, numeric_grad(w, loss), kFdTol);

  // accumulate adds to what is there
  std::vector<double> out, rstd, acc(dx.size(), 1.0);
  rmsnorm_all(x, w, T, n, &out, &rstd);
  for (int64_t t = 0; t < T; t++)
    rmsnorm_backward(acc.data() + t * n, c.data() + t * n, x.data() + t * n, w.data(), rstd[t], n, true);
  for (double& v : acc) v -= 1.0;
  check_rel("rmsnorm accumulate", acc, dx, 1e-14);

  std::vector<float> dxf, dwf;
  rmsnorm_grads(pdtest::to_float(x), pdtest::to_float(w), pdtest::to_float(c), T, n, &dxf, &dwf);
  check_rel("rmsnorm dx float", pdtest::to_double(dxf), dx, kFloatTol);
  check_rel("rmsnorm dw float", pdtest::to_double(dwf), dw, kFloatTol);
}

// ---- RoPE ----
static void test_rope() {
  std::mt19937 rng(2);
  const int nh = 3, hd = 8;
  const int64_t positions[] = {0, 5, 77}, T = 3, d = nh * hd;
  const float factors[hd / 2] = {1.0f, 1.5f, 4.0f, 8.0f};
  for (int variant = 0; variant < 2; variant++) {
    const float* ff = variant ? factors : nullptr;
    const float linear = variant ? 2.0f : 1.0f;
    std::vector<double> cs(T * hd);
    std::vector<float> csf(T * hd);
    for (int64_t t = 0; t < T; t++) {
      rope_angles_r<double>(positions[t], hd, 10000.0f, ff, linear, &cs[t * hd], &cs[t * hd + hd / 2]);
      rope_angles_r<float>(positions[t], hd, 10000.0f, ff, linear, &csf[t * hd], &csf[t * hd + hd / 2]);
    }
    // float angles come from float arithmetic (angles up to 77 rad): cos/sin agree to ~3e-7
    check_rel("rope tables float", pdtest::to_double(csf), cs, 2e-6);
    std::vector<double> x = pdtest::random_vec(rng, T * d);
    const std::vector<double> c = pdtest::random_vec(rng, T * d);
    auto loss = [&] {
      std::vector<double> y = x;
      for (int64_t t = 0; t < T; t++) rope_apply(&y[t * d], nh, hd, &cs[t * hd], &cs[t * hd + hd / 2]);
      return pdtest::dot(c, y);
    };
    std::vector<double> dx = c;
    for (int64_t t = 0; t < T; t++) rope_backward(&dx[t * d], nh, hd, &cs[t * hd], &cs[t * hd + hd / 2]);
    check_rel("rope dx", dx, numeric_grad(x, loss), kFdTol);
    // backward undoes forward (a rotation)
    std::vector<double> y = x;
    for (int64_t t = 0; t < T; t++) {
      rope_apply(&y[t * d], nh, hd, &cs[t * hd], &cs[t * hd + hd / 2]);
      rope_backward(&y[t * d], nh, hd, &cs[t * hd], &cs[t * hd + hd / 2]);
    }
    check_rel("rope inverse", y, x, 1e-14);
  }
}

// ---- SwiGLU ----
template <class R>
static void swiglu_grads(const std::vector<R>& g, const std::vector<R>& u, const std::vector<R>& c,
                         std::vector<R>* dg, std::vector<R>* du) {
  dg->assign(g.size(), R(0));
  du->assign(g.size(), R(0));
  swiglu_backward(dg->data(), du->data(), c.data(), g.data(), u.data(), (int64_t)g.size());
}

static void test_swiglu() {
  std::mt19937 rng(3);
  const int64_t n = 37;
  std::vector<double> g = pdtest::random_vec(rng, n, 2.0), u = pdtest::random_vec(rng, n);
  const std::vector<double> c = pdtest::random_vec(rng, n);
  auto loss = [&] {
    std::vector<double> h(n);
    swiglu_forward(h.data(), g.data(), u.data(), n);
    return pdtest::dot(c, h);
  };
  std::vector<double> dg, du;
  swiglu_grads(g, u, c, &dg, &du);
  check_rel("swiglu dg", dg, numeric_grad(g, loss), kFdTol);
  check_rel("swiglu du", du, numeric_grad(u, loss), kFdTol);
  std::vector<float> dgf, duf;
  swiglu_grads(pdtest::to_float(g), pdtest::to_float(u), pdtest::to_float(c), &dgf, &duf);
  check_rel("swiglu dg float", pdtest::to_double(dgf), dg, kFloatTol);
  check_rel("swiglu du float", pdtest::to_double(duf), du, kFloatTol);
}

// ---- embedding ----
static void test_embedding() {
  std::mt19937 rng(4);
  const int64_t V = 7, dim = 5, T = 6;
  const int32_t tokens[T] = {3, 1, 3, 6, 0, 3};  // repeats: their gradients add up
  std::vector<double> E = pdtest::random_vec(rng, V * dim);
  const std::vector<double> c = pdtest::random_vec(rng, T * dim);
  auto loss = [&] {
    double s = 0;
    for (int64_t t = 0; t < T; t++)
      for (int64_t j = 0; j < dim; j++) s += c[t * dim + j] * E[tokens[t] * dim + j];
    return s;
  };
  std::vector<double> dE(V * dim, 0.0);
  embedding_backward(dE.data(), c.data(), tokens, T, dim, 0, 4);  // two vocabulary shares
  embedding_backward(dE.data(), c.data(), tokens, T, dim, 4, V);
  check_rel("embedding dE", dE, numeric_grad(E, loss), kFdTol);
  for (int64_t j = 0; j < dim; j++) CHECK(dE[2 * dim + j] == 0.0 && dE[5 * dim + j] == 0.0);  // unused rows
}

// ---- cross-entropy with per-position weights ----
static void test_cross_entropy() {
  std::mt19937 rng(5);
  const int64_t T = 4, V = 13;
  const int32_t targets[T] = {3, 7, 0, 12};
  const double w[T] = {1.0, 0.0, 0.5, 2.0};
  std::vector<double> logits = pdtest::random_vec(rng, T * V, 2.0);
  auto loss = [&] {
    double s = 0;
    for (int64_t t = 0; t < T; t++)
      if (w[t] != 0.0) s += w[t] * cross_entropy_loss(&logits[t * V], V, targets[t]);
    return s;
  };
  std::vector<double> dl(T * V);
  double sum = 0;
  for (int64_t t = 0; t < T; t++) sum += cross_entropy_backward(&dl[t * V], &logits[t * V], V, targets[t], w[t], 1.0);
  CHECK_MSG(std::fabs(sum - loss()) < 1e-12 * std::fabs(sum), "loss %.17g vs %.17g", sum, loss());
  check_rel("cross-entropy dlogits", dl, numeric_grad(logits, loss), kFdTol);
  for (int64_t i = 0; i < V; i++) CHECK(dl[1 * V + i] == 0.0);  // weight 0: exactly zero

  // grad_scale multiplies the gradient (the caller's 1 / sum of weights), in place (aliasing)
  std::vector<double> scaled = logits;
  for (int64_t t = 0; t < T; t++) cross_entropy_backward(&scaled[t * V], &scaled[t * V], V, targets[t], w[t], 0.25);
  for (double& v : scaled) v *= 4.0;
  check_rel("cross-entropy scale", scaled, dl, 1e-14);

  // float: a masked row is never read (NaN there changes nothing) and gets exact zeros
  std::vector<float> lf = pdtest::to_float(logits), dlf(T * V, 1.0f);
  for (int64_t i = 0; i < V; i++) lf[1 * V + i] = NAN;
  double sumf = 0;
  for (int64_t t = 0; t < T; t++)
    sumf += cross_entropy_backward(&dlf[t * V], &lf[t * V], V, targets[t], (float)w[t], 1.0f);
  for (int64_t i = 0; i < V; i++) CHECK(dlf[1 * V + i] == 0.0f);
  CHECK_MSG(std::fabs(sumf - sum) < 1e-6 * std::fabs(sum), "float loss %.9g vs %.9g", sumf, sum);
  check_rel("cross-entropy float", pdtest::to_double(dlf), dl, kFloatTol);
}

// ---- attention over packed segments, grouped-query ----
struct AttnCase {
  AttentionShape s;
  std::vector<int32_t> seg_start;
};

static AttnCase make_case(std::initializer_list<int> seg_lens, int64_t nh, int64_t nkv, int64_t hd) {
  AttnCase a;
  for (int len : seg_lens) {
    const int32_t start = (int32_t)a.seg_start.size();
    for (int i = 0; i < len; i++) a.seg_start.push_back(start);
  }
  a.s.T = (int64_t)a.seg_start.size();
  a.s.n_heads = nh;
  a.s.n_kv_heads = nkv;
  a.s.head_dim = hd;
  return a;
}

template <class R>
struct AttnRun {
  std::vector<R> out, lse, dq, dk, dv;
};

template <class R>
static AttnRun<R> run_attention(ThreadPool* pool, const AttnCase& a, const std::vector<R>& q, const std::vector<R>& k,
                                const std::vector<R>& v, const std::vector<R>* c) {
  const int64_t T = a.s.T, qd = a.s.n_heads * a.s.head_dim, kvd = a.s.n_kv_heads * a.s.head_dim;
  AttnRun<R> r;
  r.out.assign(T * qd, R(0));
  r.lse.assign(T * a.s.n_heads, R(0));
  std::vector<R> scratch(attention_scratch_elems(T, pool ? pool->size() : 1));
  attention_forward(pool, a.s, q.data(), k.data(), v.data(), a.seg_start.data(), r.out.data(), r.lse.data(),
                    scratch.data());
  if (c) {
    r.dq.assign(T * qd, R(7));  // garbage: backward must overwrite
    r.dk.assign(T * kvd, R(7));
    r.dv.assign(T * kvd, R(7));
    attention_backward(pool, a.s, q.data(), k.data(), v.data(), a.seg_start.data(), r.out.data(), r.lse.data(),
                       c->data(), r.dq.data(), r.dk.data(), r.dv.data(), scratch.data());
  }
  return r;
}

static void test_attention() {
  std::mt19937 rng(6);
  const AttnCase a = make_case({4, 3, 2}, 4, 2, 6);  // three packed samples, GQA 4 heads on 2
  const int64_t T = a.s.T, qd = 24, kvd = 12;
  std::vector<double> q = pdtest::random_vec(rng, T * qd), k = pdtest::random_vec(rng, T * kvd),
                      v = pdtest::random_vec(rng, T * kvd);
  const std::vector<double> c = pdtest::random_vec(rng, T * qd);
  const AttnRun<double> r = run_attention<double>(nullptr, a, q, k, v, &c);
  auto loss = [&] { return pdtest::dot(c, run_attention<double>(nullptr, a, q, k, v, nullptr).out); };
  check_rel("attention dq", r.dq, numeric_grad(q, loss), kFdTol);
  check_rel("attention dk", r.dk, numeric_grad(k, loss), kFdTol);
  check_rel("attention dv", r.dv, numeric_grad(v, loss), kFdTol);

  // lse is log sum_s exp(q.k_s / sqrt(hd)) over the token's own segment
  {
    const int64_t t = 5, h = 3, kvh = 1, a0 = 4;
    double m = 0;
    for (int64_t s = a0; s <= t; s++) {
      double d = 0;
      for (int64_t i = 0; i < 6; i++) d += q[t * qd + h * 6 + i] * k[s * kvd + kvh * 6 + i];
      m += std::exp(d / std::sqrt(6.0));
    }
    CHECK_MSG(std::fabs(r.lse[t * 4 + h] - std::log(m)) < 1e-13, "lse %.17g vs %.17g", r.lse[t * 4 + h], std::log(m));
  }

  // Packed == each sample alone (no attention across a boundary), bitwise.
  int64_t start = 0;
  for (int len : {4, 3, 2}) {
    const AttnCase one = make_case({len}, 4, 2, 6);
    auto slice = [&](const std::vector<double>& x, int64_t w) {
      return std::vector<double>(x.begin() + start * w, x.begin() + (start + len) * w);
    };
    const std::vector<double> cs = slice(c, qd);
    const AttnRun<double> ro = run_attention<double>(nullptr, one, slice(q, qd), slice(k, kvd), slice(v, kvd), &cs);
    CHECK(ro.out == slice(r.out, qd) && ro.dq == slice(r.dq, qd) && ro.dk == slice(r.dk, kvd) &&
          ro.dv == slice(r.dv, kvd));
    start += len;
  }

  const std::vector<float> cf = pdtest::to_float(c);
  const AttnRun<float> rf =
      run_attention<float>(nullptr, a, pdtest::to_float(q), pdtest::to_float(k), pdtest::to_float(v), &cf);
  check_rel("attention out float", pdtest::to_double(rf.out), r.out, kFloatTol);
  check_rel("attention dq float", pdtest::to_double(rf.dq), r.dq, kFloatTol);
  check_rel("attention dk float", pdtest::to_double(rf.dk), r.dk, kFloatTol);
  check_rel("attention dv float", pdtest::to_double(rf.dv), r.dv, kFloatTol);
}

// Threads: a job big enough to be split gives the same bits with 1 and 3 threads (static split,
// each output summed by one task in a fixed order).
static void test_attention_threads() {
  std::mt19937 rng(7);
  const AttnCase a = make_case({40, 1, 30, 25}, 8, 2, 16);
  const int64_t T = a.s.T;
  const std::vector<float> q = pdtest::to_float(pdtest::random_vec(rng, T * 128)),
                           k = pdtest::to_float(pdtest::random_vec(rng, T * 32)),
                           v = pdtest::to_float(pdtest::random_vec(rng, T * 32)),
                           c = pdtest::to_float(pdtest::random_vec(rng, T * 128));
  ThreadPool pool(3);
  const AttnRun<float> r1 = run_attention<float>(nullptr, a, q, k, v, &c);
  const AttnRun<float> r3 = run_attention<float>(&pool, a, q, k, v, &c);
  CHECK(r1.out == r3.out && r1.lse == r3.lse && r1.dq == r3.dq && r1.dk == r3.dk && r1.dv == r3.dv);
}

int main(int, char**) {
  test_rmsnorm();
  test_rope();
  test_swiglu();
  test_embedding();
  test_cross_entropy();
  test_attention();
  test_attention_threads();
  return pdtest::finish("test_grad_ops");
}
