// addon.devices(): see devices_wrap.h. The CPU entry always exists; the CUDA entry says whether
// the module is present (compiled), whether it loaded, and why not, so no fallback is silent.
#include "devices_wrap.h"

#include <string>

#include "backend/gpu/gpu_registry.h"
#include "core/sysinfo.h"

namespace paddock {

namespace {

Napi::Object cpu_entry(Napi::Env env) {
  Napi::Object dev = Napi::Object::New(env);
  dev.Set("name", cpu_model_name());
  dev.Set("memory_bytes", (double)total_memory_bytes());
  Napi::Array devs = Napi::Array::New(env, 1);
  devs.Set(0u, dev);
  Napi::Object cpu = Napi::Object::New(env);
  cpu.Set("name", "cpu");
  cpu.Set("compiled", true);
  cpu.Set("devices", devs);
  return cpu;
}

Napi::Object gpu_device(Napi::Env env, const GpuDeviceInfo& d) {
  Napi::Object dev = Napi::Object::New(env);
  dev.Set("index", d.index);
  dev.Set("name", d.name);
  dev.Set("memory_bytes", (double)d.total_bytes);  // doubles: exact below 2^53 bytes
  dev.Set("free_bytes", (double)d.free_bytes);
  dev.Set("compute_capability", std::to_string(d.cc_major) + "." + std::to_string(d.cc_minor));
  dev.Set("bf16", d.bf16);
  dev.Set("emulated", d.emulated);
  dev.Set("matmul", d.matmul);
  return dev;
}

Napi::Object cuda_entry(Napi::Env env) {
  const GpuBackendStatus& st = cuda_backend_status();
  Napi::Object cuda = Napi::Object::New(env);
  cuda.Set("name", "cuda");
  cuda.Set("compiled", st.compiled);
  cuda.Set("loaded", st.loaded);
  if (!st.why.empty()) cuda.Set("reason", st.why);
  Napi::Array devs = Napi::Array::New(env, st.devices.size());
  for (size_t i = 0; i < st.devices.size(); ++i) devs.Set((uint32_t)i, gpu_device(env, st.devices[i]));
  cuda.Set("devices", devs);
  return cuda;
}

}  // namespace

Napi::Value Devices(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array backends = Napi::Array::New(env, 2);
  backends.Set(0u, cpu_entry(env));
  backends.Set(1u, cuda_entry(env));
  Napi::Object out = Napi::Object::New(env);
  out.Set("backends", backends);
  return out;
}

}  // namespace paddock
