// The device probe (one warp: ldmatrix, mma.sync, shuffle sum) against the host's product, and
// the backend's device list. On the emulator this checks the emulator itself.
#include "backend/gpu/gpu_backend.h"
#include "cuda_testing.h"

extern "C" paddock::GpuBackend* paddock_cuda_backend_v1();

int main(int argc, char** argv) {
  cudatest::require_device("test_cuda_probe");  // runs probe_device: a wrong layout fails here
  std::string why;
  CHECK(pd_cuda::probe_device(&why));
  paddock::GpuBackend* backend = paddock_cuda_backend_v1();
  CHECK(backend != nullptr);
  if (backend) {
    const std::vector<paddock::GpuDeviceInfo> devices = backend->devices(&why);
    CHECK_MSG(!devices.empty(), "no devices: %s", why.c_str());
    for (const auto& d : devices)
      std::printf("  device %d: %s, %.1f GiB (%.1f free), sm_%d%d%s\n", d.index, d.name.c_str(),
                  d.total_bytes / 1073741824.0, d.free_bytes / 1073741824.0, d.cc_major, d.cc_minor,
                  d.emulated ? " (emulated)" : "");
    CHECK(devices.empty() || (devices[0].total_bytes > 0 && !devices[0].name.empty()));
  }
  return pdtest::finish("test_cuda_probe");
}
