#include "context_wrap.h"

#include <cmath>
#include <cstring>

#include "adapter_wrap.h"
#include "addon_data.h"
#include "js_errors.h"
#include "promise_worker.h"

namespace paddock {

namespace {

struct ContextInit {
  std::shared_ptr<LlamaContext> ctx;
};

}  // namespace

// Runs one decode off the JS thread; keeps the context (and through it the model) alive.
class DecodeWorker : public PromiseWorker {
 public:
  DecodeWorker(Napi::Env env, ContextWrap* wrap, std::vector<int32_t> tokens)
      : PromiseWorker(env, "paddock.decode"), ctx_(wrap->ctx_), tokens_(std::move(tokens)) {
    self_ = Napi::Persistent(wrap->Value());
    wrap_ = wrap;
  }

 protected:
  Status Run() override { return ctx_->decode(tokens_.data(), (int64_t)tokens_.size(), &logits_); }
  Napi::Value Result(Napi::Env env) override {
    Napi::Float32Array out = Napi::Float32Array::New(env, logits_.size());
    std::memcpy(out.Data(), logits_.data(), logits_.size() * sizeof(float));
    return out;
  }
  void Finished() override {
    wrap_->busy_ = false;
    wrap_->position_ = ctx_->position();
  }

 private:
  std::shared_ptr<LlamaContext> ctx_;
  std::vector<int32_t> tokens_;
  std::vector<float> logits_;
  Napi::ObjectReference self_;  // the JS context object stays alive while this runs
  ContextWrap* wrap_;
};

Napi::Function ContextWrap::Define(Napi::Env env) {
  return DefineClass(env, "NativeContext",
                     {
                         InstanceAccessor<&ContextWrap::ContextLength>("contextLength"),
                         InstanceAccessor<&ContextWrap::Position>("position"),
                         InstanceAccessor<&ContextWrap::Backend>("backend"),
                         InstanceMethod<&ContextWrap::Decode>("decode"),
                         InstanceMethod<&ContextWrap::Truncate>("truncate"),
                         InstanceMethod<&ContextWrap::Shift>("shift"),
                         InstanceMethod<&ContextWrap::SetAdapters>("setAdapters"),
                         InstanceMethod<&ContextWrap::Dispose>("dispose"),
                     });
}

Napi::Object ContextWrap::Create(Napi::Env env, std::shared_ptr<Model> model, int64_t n_ctx, int threads,
                                 KvType kv_type, const ContextDevice& device) {
  std::unique_ptr<LlamaContext> ctx;
  Status st = LlamaContext::create(std::move(model), n_ctx, threads, &ctx, kv_type, device);
  if (!st.ok()) throw_status(env, st);
  ContextInit init{std::shared_ptr<LlamaContext>(std::move(ctx))};
  return addon_data(env)->context_ctor.New({Napi::External<ContextInit>::New(env, &init)});
}

ContextWrap::ContextWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ContextWrap>(info) {
  if (info.Length() < 1 || !info[0].IsExternal()) {
    throw_invalid(info.Env(), "NativeContext is created by NativeModel.createContext()");
  }
  ctx_ = info[0].As<Napi::External<ContextInit>>().Data()->ctx;
  context_length_ = ctx_->context_length();
  backend_ = ctx_->backend_info();
}

Napi::Value ContextWrap::ContextLength(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), (double)context_length_);
}

Napi::Value ContextWrap::Position(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), (double)position_);
}

Napi::Value ContextWrap::Backend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", backend_.name);
  o.Set("deviceName", backend_.device_name);
  o.Set("gpuLayers", Napi::Number::New(env, (double)backend_.gpu_layers));
  o.Set("layerCount", Napi::Number::New(env, (double)backend_.layer_count));
  o.Set("deviceBytes", Napi::Number::New(env, (double)backend_.device_bytes));
  if (!backend_.notice.empty()) o.Set("notice", backend_.notice);
  o.Freeze();
  return o;
}

Napi::Value ContextWrap::Decode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto invalid = [&](const std::string& msg) {
    return rejected_promise(env, Status(ErrorCode::InvalidArgument, msg, "binding", 0));
  };
  if (!ctx_) return invalid("this context has been disposed");
  if (busy_) return invalid("a decode is already running on this context; await it first");
  std::vector<int32_t> tokens;
  if (info.Length() > 0 && info[0].IsTypedArray() &&
      info[0].As<Napi::TypedArray>().TypedArrayType() == napi_int32_array) {
    Napi::Int32Array a = info[0].As<Napi::Int32Array>();
    tokens.assign(a.Data(), a.Data() + a.ElementLength());
  } else if (info.Length() > 0 && info[0].IsArray()) {
    Napi::Array a = info[0].As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
      Napi::Value v = a.Get(i);
      if (!v.IsNumber()) return invalid("tokens must be an Int32Array of token ids");
      tokens.push_back(v.As<Napi::Number>().Int32Value());
    }
  } else {
    return invalid("tokens must be an Int32Array of token ids");
  }
  auto* worker = new DecodeWorker(env, this, std::move(tokens));
  Napi::Promise p = worker->Promise();
  busy_ = true;
  worker->Queue();
  return p;
}

void ContextWrap::Truncate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ctx_) throw_invalid(env, "this context has been disposed");
  if (busy_) throw_invalid(env, "cannot truncate while a decode is running; await it first");
  const double pos = arg_number(info, 0, "position");
  if (pos != std::floor(pos)) throw_invalid(env, "position must be an integer");
  Status st = ctx_->truncate((int64_t)pos);
  if (!st.ok()) throw_status(env, st);
  position_ = ctx_->position();
}

void ContextWrap::Shift(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ctx_) throw_invalid(env, "this context has been disposed");
  if (busy_) throw_invalid(env, "cannot shift while a decode is running; await it first");
  const double keep = arg_number(info, 0, "keep"), discard = arg_number(info, 1, "discard");
  if (keep != std::floor(keep) || discard != std::floor(discard) || keep < 0 || discard < 0 || keep > (1 << 24) ||
      discard > (1 << 24)) {
    throw_invalid(env, "keep and discard must be non-negative integers within the context");
  }
  Status st = ctx_->shift((int64_t)keep, (int64_t)discard);
  if (!st.ok()) throw_status(env, st);
  position_ = ctx_->position();
}

// setAdapters([{adapter, scale}]): replaces the attached adapters; the position goes back to 0.
void ContextWrap::SetAdapters(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ctx_) throw_invalid(env, "this context has been disposed");
  if (busy_) throw_invalid(env, "cannot change adapters while a decode is running; await it first");
  if (info.Length() < 1 || !info[0].IsArray()) throw_invalid(env, "setAdapters needs an array of {adapter, scale}");
  Napi::Array list = info[0].As<Napi::Array>();
  std::vector<LoraStackEntry> entries;
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value item = list.Get(i);
    if (!item.IsObject()) throw_invalid(env, "setAdapters entries must be {adapter, scale} objects");
    Napi::Object o = item.As<Napi::Object>();
    LoraStackEntry e;
    e.adapter = adapter_from_js(env, o.Get("adapter"), "adapter");
    e.scale = (float)opt_number(env, o, "scale", 1.0);
    entries.push_back(std::move(e));
  }
  Status st = ctx_->set_adapters(std::move(entries));
  backend_.device_bytes = ctx_->backend_info().device_bytes;  // adapters live on the device too
  if (!st.ok()) throw_status(env, st);
  position_ = ctx_->position();
}

void ContextWrap::Dispose(const Napi::CallbackInfo&) {
  ctx_.reset();  // a running DecodeWorker holds its own reference and frees it when done
}

}  // namespace paddock
