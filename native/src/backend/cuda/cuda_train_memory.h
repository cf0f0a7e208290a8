// Device allocations owned by one training session: every buffer is allocated up front (a run
// that cannot fit fails at creation with the bytes it wanted, never mid-step) and freed together.
#pragma once

#include <cstdint>
#include <vector>

#include "backend/cuda/gpu_runtime.h"
#include "core/status.h"

namespace paddock {

class DeviceAllocations {
 public:
  DeviceAllocations() = default;
  DeviceAllocations(const DeviceAllocations&) = delete;
  DeviceAllocations& operator=(const DeviceAllocations&) = delete;
  ~DeviceAllocations() {
    for (void* p : blocks_) pd_gpu::device_free(p);
  }

  // n elements of T (at least one, so every pointer is valid); OUT_OF_MEMORY naming `what`.
  template <class T>
  Status alloc(int64_t n, const char* what, T** out) {
    const size_t bytes = (size_t)(n > 0 ? n : 1) * sizeof(T);
    void* p = pd_gpu::device_malloc(bytes);
    if (!p)
      return PD_ERROR(OutOfMemory, "GPU training: %s needs %.1f MiB more device memory (%.1f MiB held): %s", what,
                      bytes / 1048576.0, bytes_ / 1048576.0, pd_gpu::last_error().c_str());
    blocks_.push_back(p);
    bytes_ += bytes;
    *out = (T*)p;
    return Status();
  }
  uint64_t bytes() const { return bytes_; }

 private:
  std::vector<void*> blocks_;
  uint64_t bytes_ = 0;
};

}  // namespace paddock
