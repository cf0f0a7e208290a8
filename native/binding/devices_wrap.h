// addon.devices(): the backends compiled into this build and the devices each one found, for
// the `devices` command and the Models view. Reading it loads the CUDA module once (gpu_registry).
#pragma once

#include <napi.h>

namespace paddock {

// devices() -> { backends: [ {name:'cpu', compiled, devices:[{name, memory_bytes}]},
//   {name:'cuda', compiled, loaded, reason?, devices:[{name, memory_bytes, free_bytes,
//   compute_capability:"8.0", bf16, emulated}]} ] }
Napi::Value Devices(const Napi::CallbackInfo& info);

}  // namespace paddock
