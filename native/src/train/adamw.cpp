#include "train/adamw.h"

#include <algorithm>
#include <cmath>

#include "backend/cpu/fpu_mode.h"
#include "backend/cpu/threadpool.h"

namespace paddock {

namespace {

// Work is cut into fixed blocks of one parameter each, independent of the thread count, so the
// norm's partial sums (and their order) never depend on how many threads ran them.
constexpr int64_t kBlock = 16384;
// Below this many elements the pool's wake-up costs more than the loop.
constexpr int64_t kParallelMinElements = 1 << 16;

struct Block {
  size_t param;
  int64_t begin, end;
};

template <class R>
std::vector<Block> make_blocks(const ParamSetT<R>& params) {
  std::vector<Block> blocks;
  for (size_t i = 0; i < params.size(); i++)
    for (int64_t b = 0; b < params[i].size(); b += kBlock)
      blocks.push_back({i, b, std::min(params[i].size(), b + kBlock)});
  return blocks;
}

// Runs fn(block index) for every block, split statically over the pool. Compute threads flush
// denormals (threadpool.cpp); the caller's thread does too here, so every element sees the same
// mode whichever thread owns it (AdamW moments decay into the denormal range in long runs).
template <class F>
void for_blocks(ThreadPool* pool, size_t n_blocks, int64_t n_elements, F&& fn) {
  if (!pool || pool->size() == 1 || n_elements < kParallelMinElements) {
    ScopedFlushDenormals ftz;
    for (size_t b = 0; b < n_blocks; b++) fn(b);
    return;
  }
  pool->run([&](int ith, int nth) {
    ScopedFlushDenormals ftz;
    int64_t b0, b1;
    split_range((int64_t)n_blocks, ith, nth, &b0, &b1);
    for (int64_t b = b0; b < b1; b++) fn((size_t)b);
  });
}

bool finite_in(double x, double lo, double hi) { return std::isfinite(x) && x >= lo && x < hi; }

}  // namespace

Status check_adamw_config(const AdamWConfig& c) {
  const double inf = INFINITY;
  if (!(std::isfinite(c.lr) && c.lr > 0)) return PD_ERROR(InvalidArgument, "learning rate must be > 0, got %g", c.lr);
  if (!finite_in(c.beta1, 0, 1)) return PD_ERROR(InvalidArgument, "AdamW beta1 must be in [0, 1), got %g", c.beta1);
  if (!finite_in(c.beta2, 0, 1)) return PD_ERROR(InvalidArgument, "AdamW beta2 must be in [0, 1), got %g", c.beta2);
  if (!(std::isfinite(c.eps) && c.eps > 0)) return PD_ERROR(InvalidArgument, "AdamW eps must be > 0, got %g", c.eps);
  if (!finite_in(c.weight_decay, 0, inf))
    return PD_ERROR(InvalidArgument, "weight decay must be >= 0, got %g", c.weight_decay);
  if (!finite_in(c.clip_norm, 0, inf))
    return PD_ERROR(InvalidArgument, "gradient clipping norm must be >= 0 (0: off), got %g", c.clip_norm);
  return Status();
}

template <class R>
void AdamWStateT<R>::init(const ParamSetT<R>& params) {
  m.assign(params.size(), {});
  v.assign(params.size(), {});
  for (size_t i = 0; i < params.size(); i++) {
    m[i].assign((size_t)params[i].size(), R(0));
    v[i].assign((size_t)params[i].size(), R(0));
  }
  t = 0;
}

template <class R>
double grad_global_norm(const ParamSetT<R>& params, ThreadPool* pool) {
  const std::vector<Block> blocks = make_blocks(params);
  std::vector<double> partial(blocks.size(), 0.0);
  for_blocks(pool, blocks.size(), params.total_elements(), [&](size_t b) {
    const R* g = params[blocks[b].param].grad.data();
    double s = 0.0;
    for (int64_t i = blocks[b].begin; i < blocks[b].end; i++) s += (double)g[i] * (double)g[i];
    partial[b] = s;
  });
  double total = 0.0;
  for (double s : partial) total += s;
  return std::sqrt(total);
}

template <class R>
void clip_grads(ParamSetT<R>* params, double norm, double clip_norm, ThreadPool* pool) {
  if (clip_norm <= 0) return;
  const double coef = clip_norm / (norm + 1e-6);
  if (!(coef < 1.0)) return;
  const R c = (R)coef;
  const std::vector<Block> blocks = make_blocks(*params);
  for_blocks(pool, blocks.size(), params->total_elements(), [&](size_t b) {
    R* g = (*params)[blocks[b].param].grad.data();
    for (int64_t i = blocks[b].begin; i < blocks[b].end; i++) g[i] *= c;
  });
}

template <class R>
void adamw_step(ParamSetT<R>* params, AdamWStateT<R>* state, const AdamWConfig& c, double lr, ThreadPool* pool) {
  state->t++;
  // torch.optim.AdamW's arithmetic: p *= 1 - lr*wd; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
  // p -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps), with bc = 1 - beta^t.
  const double bc1 = 1.0 - std::pow(c.beta1, (double)state->t);
  const double bc2 = 1.0 - std::pow(c.beta2, (double)state->t);
  const R decay = (R)(1.0 - lr * c.weight_decay);
  const R b1 = (R)c.beta1, one_minus_b1 = (R)(1.0 - c.beta1);
  const R b2 = (R)c.beta2, one_minus_b2 = (R)(1.0 - c.beta2);
  const R step_size = (R)(lr / bc1), bc2_sqrt = (R)std::sqrt(bc2), eps = (R)c.eps;
  const std::vector<Block> blocks = make_blocks(*params);
  for_blocks(pool, blocks.size(), params->total_elements(), [&](size_t b) {
    const size_t k = blocks[b].param;
    ParamT<R>& p = (*params)[k];
    R* w = p.value.data();
    const R* g = p.grad.data();
    R* m = state->m[k].data();
    R* v = state->v[k].data();
    for (int64_t i = blocks[b].begin; i < blocks[b].end; i++) {
      w[i] = w[i] * decay;
      m[i] = m[i] * b1 + g[i] * one_minus_b1;
      v[i] = v[i] * b2 + g[i] * g[i] * one_minus_b2;
      w[i] = w[i] - step_size * (m[i] / (std::sqrt(v[i]) / bc2_sqrt + eps));
    }
  });
}

#define PD_INSTANTIATE_ADAMW(R)                                                                          \
  template struct AdamWStateT<R>;                                                                        \
  template double grad_global_norm<R>(const ParamSetT<R>&, ThreadPool*);                                 \
  template void clip_grads<R>(ParamSetT<R>*, double, double, ThreadPool*);                               \
  template void adamw_step<R>(ParamSetT<R>*, AdamWStateT<R>*, const AdamWConfig&, double, ThreadPool*);
PD_INSTANTIATE_ADAMW(float)
PD_INSTANTIATE_ADAMW(double)
#undef PD_INSTANTIATE_ADAMW

}  // namespace paddock
