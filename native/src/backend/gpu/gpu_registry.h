// Finds the GPU backend modules beside the engine and loads them on first use. A module that
// is missing (a CPU-only build), fails to load (no CUDA runtime) or finds no device leaves the
// CPU backend in place, with a reason the app shows ("silent CPU fallback" is what users hate).
#pragma once

#include <string>
#include <vector>

#include "backend/gpu/gpu_backend.h"

namespace paddock {

struct GpuBackendStatus {
  std::string name;          // "cuda"
  bool compiled = false;     // the module file exists beside the engine
  bool loaded = false;       // dlopen and the entry symbol worked
  std::string module_path;
  std::string why;           // when not loaded, or loaded without devices: the reason
  std::vector<GpuDeviceInfo> devices;
};

// The CUDA module: $PADDOCK_CUDA_MODULE if set (tests point it at the emulator build), else
// paddock_cuda.so (.dll, .dylib) in the folder of the binary holding this code. Loaded once.
const GpuBackendStatus& cuda_backend_status();
// The loaded backend, or nullptr (then cuda_backend_status().why says why).
GpuBackend* cuda_backend();

}  // namespace paddock
