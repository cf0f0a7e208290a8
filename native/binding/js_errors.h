// Status -> JS: every error reaching JavaScript is an Error with a stable `code`
// (BAD_MODEL_FILE, IO, UNSUPPORTED, OUT_OF_MEMORY, INVALID_ARGUMENT, INTERNAL) and the message
// made in C++; `nativeSource` says where (file:line) for bug reports.
#pragma once

#include <napi.h>

#include <string>
#include <vector>

#include "core/status.h"

namespace paddock {

Napi::Error js_error(Napi::Env env, const Status& st);
[[noreturn]] void throw_status(Napi::Env env, const Status& st);
[[noreturn]] void throw_invalid(Napi::Env env, const std::string& message);
Napi::Promise rejected_promise(Napi::Env env, const Status& st);

// Argument readers that throw INVALID_ARGUMENT errors naming the argument.
std::string arg_string(const Napi::CallbackInfo& info, size_t i, const char* name);
double arg_number(const Napi::CallbackInfo& info, size_t i, const char* name);
// Optional numeric property of an options object (returns `def` when absent/undefined).
double opt_number(Napi::Env env, const Napi::Value& options, const char* key, double def);
std::string opt_string(Napi::Env env, const Napi::Value& options, const char* key, const std::string& def);

// JS values from C++ results.
Napi::Int32Array to_int32_array(Napi::Env env, const std::vector<int32_t>& ids);
Napi::Uint8Array to_uint8_array(Napi::Env env, const std::string& bytes);

}  // namespace paddock
