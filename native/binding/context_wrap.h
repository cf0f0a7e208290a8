// NativeContext: one KV cache and thread pool over a model. decode() runs on a libuv thread
// (DecodeWorker) while JS keeps running; one decode at a time, and truncate() / shift() refuse
// to run beside it.
#pragma once

#include <napi.h>

#include <memory>

#include "model/llama_context.h"

namespace paddock {

class ContextWrap : public Napi::ObjectWrap<ContextWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  static Napi::Object Create(Napi::Env env, std::shared_ptr<Model> model, int64_t n_ctx, int threads,
                             KvType kv_type, const ContextDevice& device);

  explicit ContextWrap(const Napi::CallbackInfo& info);

 private:
  friend class DecodeWorker;
  Napi::Value ContextLength(const Napi::CallbackInfo& info);
  Napi::Value Position(const Napi::CallbackInfo& info);
  // { name, deviceName, gpuLayers, layerCount, deviceBytes, notice? }: where the context runs.
  Napi::Value Backend(const Napi::CallbackInfo& info);
  Napi::Value Decode(const Napi::CallbackInfo& info);
  void Truncate(const Napi::CallbackInfo& info);
  void Shift(const Napi::CallbackInfo& info);
  void SetAdapters(const Napi::CallbackInfo& info);
  void Dispose(const Napi::CallbackInfo& info);

  std::shared_ptr<LlamaContext> ctx_;  // shared with a running DecodeWorker
  int64_t context_length_ = 0;
  int64_t position_ = 0;               // mirrored on the JS thread after each decode
  ContextBackendInfo backend_;         // copied on the JS thread (at creation, after setAdapters)
  bool busy_ = false;
};

}  // namespace paddock
