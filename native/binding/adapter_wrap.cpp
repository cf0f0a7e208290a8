#include "adapter_wrap.h"

#include <cmath>

#include "io/adapter_gguf.h"
#include "io/adapter_peft.h"
#include "js_errors.h"
#include "model_wrap.h"
#include "promise_worker.h"

namespace paddock {

namespace {

// Marks objects made here, so setAdapters can tell a NativeAdapter from a look-alike.
constexpr napi_type_tag kAdapterTag = {0x5061646444636b4cull, 0x6f52416164617074ull};

using Holder = std::shared_ptr<const LoraAdapter>;

Napi::Object adapter_to_js(Napi::Env env, Holder adapter) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("path", adapter->source);
  o.Set("rank", (double)adapter->config.rank);
  o.Set("alpha", (double)adapter->config.alpha);
  Napi::Array targets = Napi::Array::New(env);
  for (int t = 0; t < kLoraTargetCount; t++)
    if (adapter->config.targets_has((LoraTarget)t)) targets.Set(targets.Length(), lora_target_key((LoraTarget)t));
  o.Set("targets", targets);
  o.TypeTag(&kAdapterTag);
  napi_status st = napi_wrap(env, o, new Holder(std::move(adapter)),
                             [](napi_env, void* data, void*) { delete static_cast<Holder*>(data); }, nullptr, nullptr);
  NAPI_THROW_IF_FAILED(env, st, o);
  o.Freeze();
  return o;
}

class LoadAdapterWorker : public PromiseWorker {
 public:
  LoadAdapterWorker(Napi::Env env, std::shared_ptr<Model> model, std::string path)
      : PromiseWorker(env, "paddock.loadAdapter"), model_(std::move(model)), path_(std::move(path)) {}

 protected:
  Status Run() override { return lora_adapter_load(*model_, path_, &adapter_); }
  Napi::Value Result(Napi::Env env) override { return adapter_to_js(env, std::move(adapter_)); }

 private:
  std::shared_ptr<Model> model_;
  std::string path_;
  std::shared_ptr<LoraAdapter> adapter_;
};

class SynthAdapterWorker : public PromiseWorker {
 public:
  SynthAdapterWorker(Napi::Env env, std::shared_ptr<Model> model, std::string path, std::string format, LoraConfig lc,
                     uint64_t seed, float b_range)
      : PromiseWorker(env, "paddock.writeSyntheticAdapter"), model_(std::move(model)), path_(std::move(path)),
        format_(std::move(format)), lc_(lc), seed_(seed), b_range_(b_range) {}

 protected:
  Status Run() override {
    ParamSet ps;
    PD_TRY(lora_create_random(model_->config, lc_, seed_, b_range_, &ps));
    return format_ == "peft" ? export_adapter_peft(*model_, lc_, ps, path_) : export_adapter_gguf(*model_, lc_, ps, path_);
  }
  Napi::Value Result(Napi::Env env) override { return Napi::String::New(env, path_); }

 private:
  std::shared_ptr<Model> model_;
  std::string path_, format_;
  LoraConfig lc_;
  uint64_t seed_;
  float b_range_;
};

std::shared_ptr<Model> model_arg(const Napi::CallbackInfo& info, const char* fn) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !ModelWrap::IsInstance(env, info[0]))
    throw_invalid(env, std::string(fn) + " needs a NativeModel from loadModel()");
  return Napi::ObjectWrap<ModelWrap>::Unwrap(info[0].As<Napi::Object>())->model(env);
}

}  // namespace

std::shared_ptr<const LoraAdapter> adapter_from_js(Napi::Env env, const Napi::Value& v, const char* what) {
  void* data = nullptr;
  if (!v.IsObject() || !v.As<Napi::Object>().CheckTypeTag(&kAdapterTag) || napi_unwrap(env, v, &data) != napi_ok || !data)
    throw_invalid(env, std::string(what) + " must be a NativeAdapter from loadAdapter()");
  return *static_cast<Holder*>(data);
}

// loadAdapter(model, path): a GGUF LoRA file or a PEFT folder, checked against the model's shape.
Napi::Value LoadAdapter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return queue_promise(env, [&] {
    std::shared_ptr<Model> model = model_arg(info, "loadAdapter");
    return new LoadAdapterWorker(env, std::move(model), arg_string(info, 1, "path"));
  });
}

// writeSyntheticAdapter(model, outPath, {format: 'gguf' | 'peft', rank, alpha, targets, seed, bRange}).
Napi::Value WriteSyntheticAdapter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return queue_promise(env, [&] {
    std::shared_ptr<Model> model = model_arg(info, "writeSyntheticAdapter");
    std::string out = arg_string(info, 1, "outPath");
    Napi::Value opts = info.Length() > 2 ? info[2] : env.Undefined();
    const std::string format = opt_string(env, opts, "format", "gguf");
    if (format != "gguf" && format != "peft") throw_invalid(env, "format must be 'gguf' or 'peft', got '" + format + "'");
    LoraConfig lc;
    const double rank = opt_number(env, opts, "rank", 8);
    if (!(rank >= 1 && rank <= 4096 && rank == std::floor(rank))) throw_invalid(env, "rank must be an integer in 1..4096");
    lc.rank = (int)rank;
    lc.alpha = (float)opt_number(env, opts, "alpha", 2 * rank);
    Status st = parse_lora_targets(opt_string(env, opts, "targets", "q,k,v,o,gate,up,down"), &lc.targets);
    if (!st.ok()) throw_invalid(env, st.message());
    const double seed = opt_number(env, opts, "seed", 0);
    if (!(seed >= 0 && seed <= 9007199254740991.0) || seed != std::floor(seed))
      throw_invalid(env, "seed must be a non-negative integer");
    const double b_range = opt_number(env, opts, "bRange", 0.1);
    if (!std::isfinite(b_range)) throw_invalid(env, "bRange must be a finite number");
    return new SynthAdapterWorker(env, std::move(model), std::move(out), format, lc, (uint64_t)seed, (float)b_range);
  });
}

}  // namespace paddock
