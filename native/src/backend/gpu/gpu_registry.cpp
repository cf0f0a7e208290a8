#include "backend/gpu/gpu_registry.h"

#include <cstdlib>
#include <mutex>

#if defined(_WIN32)
#include <windows.h>
#else
#include <dlfcn.h>
#include <sys/stat.h>
#endif

namespace paddock {
namespace {

#if defined(_WIN32)
constexpr const char* kModuleFile = "paddock_cuda.dll";
#elif defined(__APPLE__)
constexpr const char* kModuleFile = "paddock_cuda.dylib";
#else
constexpr const char* kModuleFile = "paddock_cuda.so";
#endif

std::string folder_of_this_binary() {
#if defined(_WIN32)
  HMODULE self = nullptr;
  GetModuleHandleExA(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                     (LPCSTR)&folder_of_this_binary, &self);
  char path[MAX_PATH];
  const DWORD n = GetModuleFileNameA(self, path, MAX_PATH);
  std::string p(path, n);
  const size_t slash = p.find_last_of("\\/");
#else
  Dl_info info;
  if (!dladdr((void*)&folder_of_this_binary, &info) || !info.dli_fname) return ".";
  std::string p = info.dli_fname;
  const size_t slash = p.find_last_of('/');
#endif
  return slash == std::string::npos ? "." : p.substr(0, slash);
}

bool file_exists(const std::string& p) {
#if defined(_WIN32)
  return GetFileAttributesA(p.c_str()) != INVALID_FILE_ATTRIBUTES;
#else
  struct stat st;
  return stat(p.c_str(), &st) == 0;
#endif
}

struct Registry {
  GpuBackendStatus status;
  GpuBackend* backend = nullptr;
};

Registry load() {
  Registry r;
  r.status.name = "cuda";
  const char* env = std::getenv("PADDOCK_CUDA_MODULE");
  r.status.module_path = env && *env ? env : folder_of_this_binary() + "/" + kModuleFile;
  r.status.compiled = file_exists(r.status.module_path);
  if (!r.status.compiled) {
    r.status.why = "this build has no CUDA backend (" + r.status.module_path + " not found)";
    return r;
  }
#if defined(_WIN32)
  HMODULE h = LoadLibraryA(r.status.module_path.c_str());
  if (!h) {
    r.status.why = "the CUDA backend " + r.status.module_path + " could not be loaded";
    return r;
  }
  auto entry = (GpuBackendEntry)GetProcAddress(h, kCudaBackendEntry);
#else
  void* h = dlopen(r.status.module_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char* e = dlerror();
    r.status.why = "the CUDA backend could not be loaded: " + std::string(e ? e : r.status.module_path);
    return r;
  }
  auto entry = (GpuBackendEntry)dlsym(h, kCudaBackendEntry);
#endif
  if (!entry) {
    r.status.why = r.status.module_path + " has no " + kCudaBackendEntry + " (a module from another version?)";
    return r;
  }
  r.backend = entry();
  r.status.loaded = r.backend != nullptr;
  if (!r.backend) {
    r.status.why = "the CUDA backend refused to start";
    return r;
  }
  r.status.devices = r.backend->devices(&r.status.why);
  return r;
}

Registry& registry() {
  static Registry r = load();  // thread-safe once (C++11 statics)
  return r;
}

}  // namespace

const GpuBackendStatus& cuda_backend_status() { return registry().status; }

GpuBackend* cuda_backend() { return registry().backend; }

}  // namespace paddock
