// NativeModel: a loaded model shared with the contexts made from it. dispose() drops this
// handle's reference; the memory goes when the last context using it is gone too.
#pragma once

#include <napi.h>

#include <memory>

#include "model/model.h"

namespace paddock {

class ModelWrap : public Napi::ObjectWrap<ModelWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  // A new JS NativeModel around `model`.
  static Napi::Object Create(Napi::Env env, std::shared_ptr<Model> model);
  static bool IsInstance(Napi::Env env, const Napi::Value& v);

  explicit ModelWrap(const Napi::CallbackInfo& info);
  // The model, or a thrown INVALID_ARGUMENT when disposed.
  std::shared_ptr<Model> model(Napi::Env env) const;

 private:
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value Tokenize(const Napi::CallbackInfo& info);
  Napi::Value TokenBytes(const Napi::CallbackInfo& info);
  Napi::Value TokenText(const Napi::CallbackInfo& info);
  Napi::Value IsEog(const Napi::CallbackInfo& info);
  Napi::Value CreateContext(const Napi::CallbackInfo& info);
  void Dispose(const Napi::CallbackInfo& info);
  int32_t token_arg(const Napi::CallbackInfo& info) const;

  std::shared_ptr<Model> model_;
  Napi::ObjectReference info_;
};

// NativeModelInfo as a JS object.
Napi::Object model_info_to_js(Napi::Env env, const Model& m);

}  // namespace paddock
