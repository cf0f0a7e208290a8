#include "core/buffer.h"

#include <cstdlib>
#include <new>

#include "core/sysinfo.h"

#if defined(_WIN32)
#include <malloc.h>
#else
#include <sys/mman.h>
#endif

namespace paddock {

Buffer& Buffer::operator=(Buffer&& o) noexcept {
  if (this != &o) {
    release();
    data_ = o.data_;
    size_ = o.size_;
    map_bytes_ = o.map_bytes_;
    o.data_ = nullptr;
    o.size_ = 0;
    o.map_bytes_ = 0;
  }
  return *this;
}

static Status check_fits(size_t bytes, const char* what) {
  const uint64_t ram = total_memory_bytes();
  if (ram > 0 && bytes > ram) {
    return PD_ERROR(OutOfMemory, "%s needs %.2f GiB but this machine has %.2f GiB of memory", what,
                    bytes / 1073741824.0, ram / 1073741824.0);
  }
  return Status();
}

Status Buffer::allocate_huge(size_t bytes, const char* what) {
#if defined(__linux__)
  release();
  if (bytes == 0) return Status();
  PD_TRY(check_fits(bytes, what));
  constexpr size_t kHuge = size_t(2) << 20;
  const size_t rounded = (bytes + kHuge - 1) & ~(kHuge - 1);
  // Over-allocate by one huge page and trim, so the start is 2 MiB aligned (THP needs it).
  void* p = mmap(nullptr, rounded + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return PD_ERROR(OutOfMemory, "could not allocate %.2f MiB for %s", bytes / 1048576.0, what);
  const uintptr_t base = reinterpret_cast<uintptr_t>(p);
  const uintptr_t aligned = (base + kHuge - 1) & ~uintptr_t(kHuge - 1);
  if (aligned > base) munmap(p, aligned - base);
  if (aligned + rounded < base + rounded + kHuge) munmap((void*)(aligned + rounded), base + kHuge - aligned);
  madvise((void*)aligned, rounded, MADV_HUGEPAGE);  // advisory: without THP this is plain memory
  data_ = (void*)aligned;
  size_ = bytes;
  map_bytes_ = rounded;
  return Status();
#else
  return allocate(bytes, what);
#endif
}

Status Buffer::allocate(size_t bytes, const char* what) {
  release();
  if (bytes == 0) return Status();
  PD_TRY(check_fits(bytes, what));
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
#if !defined(_WIN32)
  if (map_bytes_) {
    munmap(data_, map_bytes_);
    data_ = nullptr;
    size_ = 0;
    map_bytes_ = 0;
    return;
  }
#endif
#if defined(_WIN32)
  _aligned_free(data_);
#else
  std::free(data_);
#endif
  data_ = nullptr;
  size_ = 0;
}

}  // namespace paddock
