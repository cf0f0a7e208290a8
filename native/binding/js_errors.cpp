#include "js_errors.h"

#include <cmath>

namespace paddock {

Napi::Error js_error(Napi::Env env, const Status& st) {
  Napi::Error e = Napi::Error::New(env, st.message());
  e.Value().Set("code", Napi::String::New(env, error_code_name(st.code())));
  e.Value().Set("nativeSource", Napi::String::New(env, strprintf("%s:%d", st.file(), st.line())));
  return e;
}

void throw_status(Napi::Env env, const Status& st) { throw js_error(env, st); }

void throw_invalid(Napi::Env env, const std::string& message) {
  throw js_error(env, Status(ErrorCode::InvalidArgument, message, "binding", 0));
}

Napi::Promise rejected_promise(Napi::Env env, const Status& st) {
  Napi::Promise::Deferred d = Napi::Promise::Deferred::New(env);
  d.Reject(js_error(env, st).Value());
  return d.Promise();
}

std::string arg_string(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsString()) throw_invalid(info.Env(), std::string(name) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

double arg_number(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsNumber()) throw_invalid(info.Env(), std::string(name) + " must be a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

double opt_number(Napi::Env env, const Napi::Value& options, const char* key, double def) {
  if (options.IsUndefined() || options.IsNull()) return def;
  if (!options.IsObject()) throw_invalid(env, "options must be an object");
  Napi::Value v = options.As<Napi::Object>().Get(key);
  if (v.IsUndefined() || v.IsNull()) return def;
  if (!v.IsNumber() || !std::isfinite(v.As<Napi::Number>().DoubleValue())) {
    throw_invalid(env, std::string("option '") + key + "' must be a finite number");
  }
  return v.As<Napi::Number>().DoubleValue();
}

std::string opt_string(Napi::Env env, const Napi::Value& options, const char* key, const std::string& def) {
  if (options.IsUndefined() || options.IsNull()) return def;
  if (!options.IsObject()) throw_invalid(env, "options must be an object");
  Napi::Value v = options.As<Napi::Object>().Get(key);
  if (v.IsUndefined() || v.IsNull()) return def;
  if (!v.IsString()) throw_invalid(env, std::string("option '") + key + "' must be a string");
  return v.As<Napi::String>().Utf8Value();
}

}  // namespace paddock
