// AdamW as PyTorch defines it (torch.optim.AdamW): decoupled weight decay p -= lr * wd * p,
// then the bias-corrected Adam step; plus clipping by global L2 norm (clip_grad_norm_).
#pragma once

#include <cstdint>
#include <vector>

#include "train/param_set.h"

namespace paddock {

class ThreadPool;

struct AdamWConfig {
  float lr = 2e-4f;          // peak learning rate (the schedule scales it)
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
  float weight_decay = 0.0f;
  float clip_norm = 1.0f;    // 0: no clipping
};

// First and second moments for every parameter of a set, in the set's order.
template <class R>
struct AdamWStateT {
  std::vector<std::vector<R>> m, v;
  int64_t t = 0;  // steps taken (bias correction)
  void init(const ParamSetT<R>& params);
};

// Global L2 norm of every gradient in the set, summed in double in a fixed order.
template <class R>
double grad_global_norm(const ParamSetT<R>& params);
// Multiplies every gradient by min(1, clip_norm / (norm + 1e-6)) as clip_grad_norm_ does
// (nothing when clip_norm is 0).
template <class R>
void clip_grads(ParamSetT<R>* params, double norm, float clip_norm);
// One AdamW update at learning rate lr (the schedule's value for this step); t is incremented.
template <class R>
void adamw_step(ParamSetT<R>* params, AdamWStateT<R>* state, const AdamWConfig& c, double lr, ThreadPool* pool);

using AdamWState = AdamWStateT<float>;

}  // namespace paddock
