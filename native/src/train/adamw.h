// AdamW as PyTorch defines it (torch.optim.AdamW): decoupled weight decay p -= lr * wd * p,
// then the bias-corrected Adam step; plus clipping by global L2 norm (clip_grad_norm_).
#pragma once

#include <cstdint>
#include <vector>

#include "core/status.h"
#include "train/param_set.h"

namespace paddock {

class ThreadPool;

// Doubles, not floats: 0.95f is 0.949999988..., which moves a float64 reference run (the golden
// test) by ~1e-8 relative; the values stay exactly what the user gave.
struct AdamWConfig {
  double lr = 2e-4;           // peak learning rate (the schedule scales it)
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  double clip_norm = 1.0;     // 0: no clipping
};

// INVALID_ARGUMENT naming the field: lr and eps > 0, betas in [0, 1), weight_decay and
// clip_norm >= 0, all finite.
Status check_adamw_config(const AdamWConfig& c);

// First and second moments for every parameter of a set, in the set's order.
template <class R>
struct AdamWStateT {
  std::vector<std::vector<R>> m, v;
  int64_t t = 0;  // steps taken (bias correction)
  void init(const ParamSetT<R>& params);
};

// Global L2 norm of every gradient in the set, summed in double in a fixed order: partial sums
// over fixed blocks of each parameter, added in set order, so the result is the same bits with
// or without a pool and for any thread count.
template <class R>
double grad_global_norm(const ParamSetT<R>& params, ThreadPool* pool = nullptr);
// Multiplies every gradient by min(1, clip_norm / (norm + 1e-6)) as clip_grad_norm_ does
// (nothing when clip_norm is 0 or the factor is >= 1).
template <class R>
void clip_grads(ParamSetT<R>* params, double norm, double clip_norm, ThreadPool* pool = nullptr);
// One AdamW update at learning rate lr (the schedule's value for this step); t is incremented.
// Element-wise, so any split over the pool (nullptr: the calling thread) gives the same bits.
template <class R>
void adamw_step(ParamSetT<R>* params, AdamWStateT<R>* state, const AdamWConfig& c, double lr, ThreadPool* pool);

using AdamWState = AdamWStateT<float>;

}  // namespace paddock
