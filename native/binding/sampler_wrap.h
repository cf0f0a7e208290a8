// NativeSampler: logit bias, penalties over accepted tokens, greedy / top-k / top-p / min-p /
// temperature sampling with its own RNG state.
#pragma once

#include <napi.h>

#include "infer/sampler.h"

namespace paddock {

class SamplerWrap : public Napi::ObjectWrap<SamplerWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit SamplerWrap(const Napi::CallbackInfo& info);  // new NativeSampler(options)

 private:
  Napi::Value Sample(const Napi::CallbackInfo& info);
  Napi::Value Accept(const Napi::CallbackInfo& info);  // accept(token): into the penalty window
  Sampler sampler_;
};

}  // namespace paddock
