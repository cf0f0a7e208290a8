// LoRA adapters in JS: loadAdapter(model, path) resolves with a NativeAdapter (a frozen plain
// object {path, rank, alpha, targets} that holds the adapter natively), which
// NativeContext.setAdapters([{adapter, scale}]) attaches to a context of any model of the same
// shape, without reloading the base. writeSyntheticAdapter writes a random adapter (tests, benches).
#pragma once

#include <napi.h>

#include <memory>

#include "model/lora_stack.h"

namespace paddock {

Napi::Value LoadAdapter(const Napi::CallbackInfo& info);
Napi::Value WriteSyntheticAdapter(const Napi::CallbackInfo& info);

// The adapter a NativeAdapter holds; throws INVALID_ARGUMENT naming `what` for anything else.
std::shared_ptr<const LoraAdapter> adapter_from_js(Napi::Env env, const Napi::Value& v, const char* what);

}  // namespace paddock
