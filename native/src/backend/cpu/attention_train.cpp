#include "backend/cpu/attention_train.h"

#include <cmath>

#include "backend/cpu/kernels.h"
#include "backend/cpu/threadpool.h"

namespace paddock {

namespace {

// The vector pieces of attention over keys/values `stride` apart: the SIMD kernels for float,
// plain loops for double.
template <class R>
struct AttnVec;

template <>
struct AttnVec<float> {
  const CpuKernels& k = cpu_kernels();
  void scores(const float* q, const float* keys, int64_t stride, int64_t n, int64_t hd, float scale, float* out) const {
    k.attn_scores(q, keys, stride, n, hd, scale, out);
  }
  void values(const float* w, const float* vals, int64_t stride, int64_t n, int64_t hd, float* out) const {
    k.attn_values(w, vals, stride, n, hd, out);
  }
  void axpy(float a, const float* x, float* y, int64_t n) const { k.axpy(a, x, y, n); }
  float dot(const float* a, const float* b, int64_t n) const { return k.dot_f32(a, b, n); }
  void softmax(float* x, int64_t n) const { k.softmax(x, n); }  // the inference forward's (SIMD exp)
};

template <>
struct AttnVec<double> {
  double dot(const double* a, const double* b, int64_t n) const {
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
  }
  void scores(const double* q, const double* keys, int64_t stride, int64_t n, int64_t hd, double scale,
              double* out) const {
    for (int64_t p = 0; p < n; p++) out[p] = dot(q, keys + p * stride, hd) * scale;
  }
  void values(const double* w, const double* vals, int64_t stride, int64_t n, int64_t hd, double* out) const {
    for (int64_t i = 0; i < hd; i++) out[i] = 0.0;
    for (int64_t p = 0; p < n; p++) axpy(w[p], vals + p * stride, out, hd);
  }
  void axpy(double a, const double* x, double* y, int64_t n) const {
    for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
  }
  void softmax(double* x, int64_t n) const {
    double mx = x[0], sum = 0.0;
    for (int64_t i = 1; i < n; i++) mx = x[i] > mx ? x[i] : mx;
    for (int64_t i = 0; i < n; i++) sum += (x[i] = std::exp(x[i] - mx));
    for (int64_t i = 0; i < n; i++) x[i] /= sum;
  }
};

// Runs fn(ith, nth) on the pool, or on the caller alone when the job is small (a wake-up costs
// more than it saves) or there is no pool.
template <class F>
void run_maybe_parallel(ThreadPool* pool, double work, F&& fn) {
  if (!pool || pool->size() == 1 || work < 64.0 * 1024.0) {
    fn(0, 1);
  } else {
    pool->run(fn);
  }
}

}  // namespace

template <class R>
void attention_forward(ThreadPool* pool, const AttentionShape& s, const R* q, const R* k, const R* v,
                       const int32_t* seg_start, R* out, R* lse, R* scratch) {
  const AttnVec<R> vec;
  const int64_t T = s.T, hd = s.head_dim, nh = s.n_heads, group = s.n_heads / s.n_kv_heads;
  const int64_t qd = nh * hd, kvd = s.n_kv_heads * hd;
  const R scale = R(1) / std::sqrt((R)hd);
  // (token, head) pairs round-robin: later tokens see more keys, so contiguous shares would
  // leave the first threads idle.
  run_maybe_parallel(pool, (double)T * T * qd, [&](int ith, int nth) {
    R* p = scratch + (int64_t)ith * 2 * T;
    for (int64_t i = ith; i < T * nh; i += nth) {
      const int64_t t = i / nh, h = i % nh, kvh = h / group, a = seg_start[t], n = t - a + 1;
      const R* kb = k + a * kvd + kvh * hd;
      const R* vb = v + a * kvd + kvh * hd;
      vec.scores(q + t * qd + h * hd, kb, kvd, n, hd, scale, p);
      int64_t jmax = 0;
      for (int64_t j = 1; j < n; j++) jmax = p[j] > p[jmax] ? j : jmax;
      const R mx = p[jmax];
      // The inference forward's softmax (so training and inference logits agree to the bit
      // where the rest agrees); its largest probability is exp(0) / sum, which gives the
      // log-sum-exp: mx + log(sum) = mx - log(p[jmax]).
      vec.softmax(p, n);
      vec.values(p, vb, kvd, n, hd, out + t * qd + h * hd);
      lse[t * nh + h] = mx - std::log(p[jmax]);
    }
  });
}

template <class R>
void attention_backward(ThreadPool* pool, const AttentionShape& s, const R* q, const R* k, const R* v,
                        const int32_t* seg_start, const R* out, const R* lse, const R* dout, R* dq, R* dk, R* dv,
                        R* scratch) {
  const AttnVec<R> vec;
  const int64_t T = s.T, hd = s.head_dim, nh = s.n_heads, nkv = s.n_kv_heads, group = nh / nkv;
  const int64_t qd = nh * hd, kvd = nkv * hd;
  const R scale = R(1) / std::sqrt((R)hd);
  run_maybe_parallel(pool, 2.0 * T * T * qd, [&](int ith, int nth) {
    R* p = scratch + (int64_t)ith * 2 * T;  // probabilities, then score gradients
    R* dp = p + T;                          // dout . v_s
    int64_t task = 0;
    for (int64_t a = 0; a < T; a++) {
      if (seg_start[a] != a) continue;  // a starts a segment; find its end
      int64_t b = a + 1;
      while (b < T && seg_start[b] == a) b++;
      for (int64_t kvh = 0; kvh < nkv; kvh++, task++) {
        if (task % nth != ith) continue;
        for (int64_t t = a; t < b; t++)
          for (int64_t i = 0; i < hd; i++) dk[t * kvd + kvh * hd + i] = dv[t * kvd + kvh * hd + i] = R(0);
        const R* kb = k + a * kvd + kvh * hd;
        const R* vb = v + a * kvd + kvh * hd;
        R* dkb = dk + a * kvd + kvh * hd;
        R* dvb = dv + a * kvd + kvh * hd;
        for (int64_t t = a; t < b; t++) {
          const int64_t n = t - a + 1;
          for (int64_t h = kvh * group; h < (kvh + 1) * group; h++) {
            const R* qr = q + t * qd + h * hd;
            const R* dor = dout + t * qd + h * hd;
            const R l = lse[t * nh + h];
            vec.scores(qr, kb, kvd, n, hd, scale, p);
            for (int64_t j = 0; j < n; j++) p[j] = std::exp(p[j] - l);
            vec.scores(dor, vb, kvd, n, hd, R(1), dp);
            const R D = vec.dot(dor, out + t * qd + h * hd, hd);  // = sum_j p_j dp_j
            for (int64_t j = 0; j < n; j++) {
              vec.axpy(p[j], dor, dvb + j * kvd, hd);
              p[j] = p[j] * (dp[j] - D) * scale;  // d score_j, with the 1/sqrt(hd) of q.k
            }
            vec.values(p, kb, kvd, n, hd, dq + t * qd + h * hd);
            for (int64_t j = 0; j < n; j++) vec.axpy(p[j], qr, dkb + j * kvd, hd);
          }
        }
      }
    }
  });
}

template void attention_forward<float>(ThreadPool*, const AttentionShape&, const float*, const float*, const float*,
                                       const int32_t*, float*, float*, float*);
template void attention_forward<double>(ThreadPool*, const AttentionShape&, const double*, const double*,
                                        const double*, const int32_t*, double*, double*, double*);
template void attention_backward<float>(ThreadPool*, const AttentionShape&, const float*, const float*, const float*,
                                        const int32_t*, const float*, const float*, const float*, float*, float*,
                                        float*, float*);
template void attention_backward<double>(ThreadPool*, const AttentionShape&, const double*, const double*,
                                         const double*, const int32_t*, const double*, const double*, const double*,
                                         double*, double*, double*, double*);

}  // namespace paddock
