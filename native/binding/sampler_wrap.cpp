#include "sampler_wrap.h"

#include <cmath>

#include "js_errors.h"

namespace paddock {

Napi::Function SamplerWrap::Define(Napi::Env env) {
  return DefineClass(env, "NativeSampler", {InstanceMethod<&SamplerWrap::Sample>("sample")});
}

SamplerWrap::SamplerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SamplerWrap>(info) {
  Napi::Env env = info.Env();
  Napi::Value o = info.Length() > 0 ? info[0] : env.Undefined();
  if (!o.IsObject()) throw_invalid(env, "createSampler needs {temperature, topP, topK, seed}");
  SamplerOptions opts;
  opts.temperature = (float)opt_number(env, o, "temperature", 0.0);
  opts.top_p = (float)opt_number(env, o, "topP", 1.0);
  const double k = opt_number(env, o, "topK", 0.0);
  if (k != std::floor(k) || k < 0 || k > 2147483647.0) throw_invalid(env, strprintf("topK must be an integer >= 0, got %g", k));
  opts.top_k = (int)k;
  // Seeds are JS numbers: any integer up to 2^53 (negative ones wrap), used as 64 bits.
  const double seed = opt_number(env, o, "seed", 0.0);
  if (seed != std::floor(seed) || std::fabs(seed) > 9007199254740992.0) {
    throw_invalid(env, strprintf("seed must be an integer, got %g", seed));
  }
  opts.seed = seed < 0 ? (uint64_t)(int64_t)seed : (uint64_t)seed;
  Status st = Sampler::create(opts, &sampler_);
  if (!st.ok()) throw_status(env, st);
}

Napi::Value SamplerWrap::Sample(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw_invalid(env, "sample() needs a Float32Array of logits");
  }
  Napi::Float32Array logits = info[0].As<Napi::Float32Array>();
  if (logits.ElementLength() == 0) throw_invalid(env, "sample() got an empty logits array");
  return Napi::Number::New(env, sampler_.sample(logits.Data(), (int64_t)logits.ElementLength()));
}

}  // namespace paddock
