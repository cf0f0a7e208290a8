// Per-environment state of the addon (Node main thread, a worker thread, an Electron utility
// process each get their own): the constructors of the wrapped classes.
#pragma once

#include <napi.h>

namespace paddock {

struct AddonData {
  Napi::FunctionReference model_ctor;
  Napi::FunctionReference context_ctor;
  Napi::FunctionReference sampler_ctor;
  Napi::FunctionReference tokenizer_ctor;
};

inline AddonData* addon_data(Napi::Env env) { return env.GetInstanceData<AddonData>(); }

}  // namespace paddock
