// NativeTokenizer: a standalone tokenizer file (or a model's vocabulary) for encode/decode
// without weights; loadTokenizer(file) resolves with one.
#pragma once

#include <napi.h>

#include <memory>

#include "infer/tokenizer.h"

namespace paddock {

class TokenizerWrap : public Napi::ObjectWrap<TokenizerWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  static Napi::Object Create(Napi::Env env, std::shared_ptr<const Tokenizer> tok);
  explicit TokenizerWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value Encode(const Napi::CallbackInfo& info);
  Napi::Value Decode(const Napi::CallbackInfo& info);
  Napi::Value TokenBytes(const Napi::CallbackInfo& info);
  Napi::Value TokenText(const Napi::CallbackInfo& info);
  Napi::Value IsEog(const Napi::CallbackInfo& info);
  Napi::Value VocabSize(const Napi::CallbackInfo& info);
  Napi::Value BosId(const Napi::CallbackInfo& info);
  Napi::Value EosId(const Napi::CallbackInfo& info);
  Napi::Value EotId(const Napi::CallbackInfo& info);
  Napi::Value Kind(const Napi::CallbackInfo& info);
  int32_t token_arg(const Napi::CallbackInfo& info) const;

  std::shared_ptr<const Tokenizer> tok_;
};

// addon.loadTokenizer(file): Promise<NativeTokenizer>.
Napi::Value LoadTokenizer(const Napi::CallbackInfo& info);

}  // namespace paddock
