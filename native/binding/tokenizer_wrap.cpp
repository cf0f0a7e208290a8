#include "tokenizer_wrap.h"

#include <cmath>
#include <cstring>

#include "addon_data.h"
#include "infer/tokenizer_files.h"
#include "js_errors.h"
#include "promise_worker.h"

namespace paddock {

namespace {

class LoadTokenizerWorker : public PromiseWorker {
 public:
  LoadTokenizerWorker(Napi::Env env, std::string path) : PromiseWorker(env, "paddock.loadTokenizer"), path_(std::move(path)) {}

 protected:
  Status Run() override { return load_tokenizer_file(path_, &tok_); }
  Napi::Value Result(Napi::Env env) override { return TokenizerWrap::Create(env, std::move(tok_)); }

 private:
  std::string path_;
  std::shared_ptr<const Tokenizer> tok_;
};

}  // namespace

Napi::Value LoadTokenizer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return queue_promise(env, [&] { return new LoadTokenizerWorker(env, arg_string(info, 0, "file")); });
}

Napi::Function TokenizerWrap::Define(Napi::Env env) {
  return DefineClass(env, "NativeTokenizer",
                     {
                         InstanceMethod<&TokenizerWrap::Encode>("encode"),
                         InstanceMethod<&TokenizerWrap::Decode>("decode"),
                         InstanceMethod<&TokenizerWrap::TokenBytes>("tokenBytes"),
                         InstanceMethod<&TokenizerWrap::TokenText>("tokenText"),
                         InstanceMethod<&TokenizerWrap::IsEog>("isEog"),
                         InstanceAccessor<&TokenizerWrap::VocabSize>("vocabSize"),
                         InstanceAccessor<&TokenizerWrap::BosId>("bosId"),
                         InstanceAccessor<&TokenizerWrap::EosId>("eosId"),
                         InstanceAccessor<&TokenizerWrap::EotId>("eotId"),
                         InstanceAccessor<&TokenizerWrap::Kind>("kind"),
                     });
}

Napi::Object TokenizerWrap::Create(Napi::Env env, std::shared_ptr<const Tokenizer> tok) {
  auto* holder = new std::shared_ptr<const Tokenizer>(std::move(tok));
  auto ext = Napi::External<std::shared_ptr<const Tokenizer>>::New(
      env, holder, [](Napi::Env, std::shared_ptr<const Tokenizer>* p) { delete p; });
  return addon_data(env)->tokenizer_ctor.New({ext});
}

TokenizerWrap::TokenizerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TokenizerWrap>(info) {
  if (info.Length() < 1 || !info[0].IsExternal()) throw_invalid(info.Env(), "NativeTokenizer is created by loadTokenizer()");
  tok_ = *info[0].As<Napi::External<std::shared_ptr<const Tokenizer>>>().Data();
  if (!tok_) throw_invalid(info.Env(), "the file holds no tokenizer");
}

int32_t TokenizerWrap::token_arg(const Napi::CallbackInfo& info) const {
  const double id = arg_number(info, 0, "token id");
  if (id != std::floor(id) || id < 0 || id >= (double)tok_->n_vocab()) {
    throw_invalid(info.Env(), strprintf("token id %g is outside the vocabulary (0..%d)", id, tok_->n_vocab() - 1));
  }
  return (int32_t)id;
}

Napi::Value TokenizerWrap::Encode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string text = arg_string(info, 0, "text");
  const bool add_bos = info.Length() > 1 && info[1].ToBoolean().Value();
  const bool parse_special = info.Length() > 2 && info[2].ToBoolean().Value();
  return to_int32_array(env, tok_->encode(text, add_bos, parse_special));
}

Napi::Value TokenizerWrap::Decode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw_invalid(env, "decode expects an array of token ids");
  std::vector<int32_t> ids;
  if (info[0].IsTypedArray() && info[0].As<Napi::TypedArray>().TypedArrayType() == napi_int32_array) {
    Napi::Int32Array a = info[0].As<Napi::Int32Array>();
    ids.assign(a.Data(), a.Data() + a.ElementLength());
  } else {
    Napi::Object a = info[0].As<Napi::Object>();
    const uint32_t n = a.Get("length").ToNumber().Uint32Value();
    ids.reserve(n);
    for (uint32_t i = 0; i < n; i++) {
      const double id = a.Get(i).ToNumber().DoubleValue();
      if (id != std::floor(id) || id < 0 || id >= (double)tok_->n_vocab()) {
        throw_invalid(env, strprintf("token id %g at index %u is outside the vocabulary (0..%d)", id, i, tok_->n_vocab() - 1));
      }
      ids.push_back((int32_t)id);
    }
  }
  return Napi::String::New(env, tok_->decode(ids));
}

Napi::Value TokenizerWrap::TokenBytes(const Napi::CallbackInfo& info) {
  return to_uint8_array(info.Env(), tok_->token_bytes(token_arg(info)));
}

Napi::Value TokenizerWrap::TokenText(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), tok_->token_text(token_arg(info)));
}
Napi::Value TokenizerWrap::IsEog(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), tok_->is_eog(token_arg(info)));
}
Napi::Value TokenizerWrap::VocabSize(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), tok_->n_vocab()); }
Napi::Value TokenizerWrap::BosId(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), tok_->bos_id()); }
Napi::Value TokenizerWrap::EosId(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), tok_->eos_id()); }
Napi::Value TokenizerWrap::EotId(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), tok_->eot_id()); }
Napi::Value TokenizerWrap::Kind(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), tok_->kind()); }

}  // namespace paddock
