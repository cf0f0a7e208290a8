#include "core/buffer.h"

#include <cstdlib>
#include <new>

#include "core/sysinfo.h"

#if defined(_WIN32)
#include <malloc.h>
#endif

namespace paddock {

Buffer& Buffer::operator=(Buffer&& o) noexcept {
  if (this != &o) {
    release();
    data_ = o.data_;
    size_ = o.size_;
    o.data_ = nullptr;
    o.size_ = 0;
  }
  return *this;
}

Status Buffer::allocate(size_t bytes, const char* what) {
  release();
  if (bytes == 0) return Status();
  const uint64_t ram = total_memory_bytes();
  if (ram > 0 && bytes > ram) {
    return PD_ERROR(OutOfMemory, "%s needs %.2f GiB but this machine has %.2f GiB of memory", what,
                    bytes / 1073741824.0, ram / 1073741824.0);
  }
  const size_t rounded = (bytes + 63) & ~(size_t)63;
#if defined(_WIN32)
  void* p = _aligned_malloc(rounded, 64);
#else
  void* p = nullptr;
  if (posix_memalign(&p, 64, rounded) != 0) p = nullptr;
#endif
  if (!p) return PD_ERROR(OutOfMemory, "could not allocate %.2f MiB for %s", bytes / 1048576.0, what);
  data_ = p;
  size_ = bytes;
  return Status();
}

void Buffer::release() {
  if (!data_) return;
#if defined(_WIN32)
  _aligned_free(data_);
#else
  std::free(data_);
#endif
  data_ = nullptr;
  size_ = 0;
}

}  // namespace paddock
