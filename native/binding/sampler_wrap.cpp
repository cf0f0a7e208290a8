#include "sampler_wrap.h"

#include <cmath>

#include "js_errors.h"

namespace paddock {

Napi::Function SamplerWrap::Define(Napi::Env env) {
  return DefineClass(env, "NativeSampler",
                     {InstanceMethod<&SamplerWrap::Sample>("sample"), InstanceMethod<&SamplerWrap::Accept>("accept")});
}

// An integer option in [lo, hi], or `def` when absent.
static int opt_int(Napi::Env env, const Napi::Value& o, const char* key, double def, double lo, double hi) {
  const double v = opt_number(env, o, key, def);
  if (v != std::floor(v) || v < lo || v > hi) throw_invalid(env, strprintf("%s must be an integer in [%g, %g], got %g", key, lo, hi, v));
  return (int)v;
}

// logitBias: [[tokenId, bias], ...]; a bias of -Infinity bans the token.
static std::vector<std::pair<int32_t, float>> read_logit_bias(Napi::Env env, const Napi::Value& o) {
  std::vector<std::pair<int32_t, float>> out;
  Napi::Value v = o.As<Napi::Object>().Get("logitBias");
  if (v.IsUndefined() || v.IsNull()) return out;
  const char* shape = "logitBias must be an array of [tokenId, bias] pairs";
  if (!v.IsArray()) throw_invalid(env, shape);
  Napi::Array arr = v.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value e = arr.Get(i);
    if (!e.IsArray() || e.As<Napi::Array>().Length() != 2) throw_invalid(env, shape);
    Napi::Value id = e.As<Napi::Array>().Get(0u), bias = e.As<Napi::Array>().Get(1u);
    if (!id.IsNumber() || !bias.IsNumber()) throw_invalid(env, shape);
    const double d = id.As<Napi::Number>().DoubleValue();
    if (d != std::floor(d) || d < 0 || d > 2147483647.0) throw_invalid(env, strprintf("logitBias token id must be an integer >= 0, got %g", d));
    out.emplace_back((int32_t)d, (float)bias.As<Napi::Number>().DoubleValue());
  }
  return out;
}

SamplerWrap::SamplerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SamplerWrap>(info) {
  Napi::Env env = info.Env();
  Napi::Value o = info.Length() > 0 ? info[0] : env.Undefined();
  if (!o.IsObject()) throw_invalid(env, "createSampler needs {temperature, topP, topK, seed, ...}");
  SamplerOptions opts;
  opts.temperature = (float)opt_number(env, o, "temperature", 0.0);
  opts.top_p = (float)opt_number(env, o, "topP", 1.0);
  opts.top_k = opt_int(env, o, "topK", 0.0, 0.0, 2147483647.0);
  opts.min_p = (float)opt_number(env, o, "minP", 0.0);
  opts.repeat_penalty = (float)opt_number(env, o, "repeatPenalty", 1.0);
  opts.frequency_penalty = (float)opt_number(env, o, "frequencyPenalty", 0.0);
  opts.presence_penalty = (float)opt_number(env, o, "presencePenalty", 0.0);
  opts.penalty_last_n = opt_int(env, o, "penaltyLastN", 64.0, 0.0, 1048576.0);
  opts.logit_bias = read_logit_bias(env, o);
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

Napi::Value SamplerWrap::Accept(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const double t = arg_number(info, 0, "token");
  if (t != std::floor(t) || t < 0 || t > 2147483647.0) throw_invalid(env, strprintf("accept() needs a token id >= 0, got %g", t));
  sampler_.accept((int32_t)t);
  return env.Undefined();
}

}  // namespace paddock
