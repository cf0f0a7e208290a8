#include "js_errors.h"

#include <cmath>
#include <cstring>

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

Napi::Int32Array to_int32_array(Napi::Env env, const std::vector<int32_t>& ids) {
  Napi::Int32Array out = Napi::Int32Array::New(env, ids.size());
  if (!ids.empty()) std::memcpy(out.Data(), ids.data(), ids.size() * sizeof(int32_t));
  return out;
}

Napi::Uint8Array to_uint8_array(Napi::Env env, const std::string& bytes) {
  Napi::Uint8Array out = Napi::Uint8Array::New(env, bytes.size());
  if (!bytes.empty()) std::memcpy(out.Data(), bytes.data(), bytes.size());
  return out;
}

}  // namespace paddock
