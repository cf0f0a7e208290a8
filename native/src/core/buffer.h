// Owned, 64-byte aligned, uninitialised memory (activations, KV cache, converted weights).
// Pages are committed by the OS on first touch, so a large KV cache costs only what is used.
// allocate_huge() asks for 2 MiB transparent huge pages (Linux; plain allocate() elsewhere):
// for weights streamed every token, where 4 KiB pages cost a TLB miss per page and stop the
// hardware prefetcher at every page boundary.
#pragma once

#include <cstddef>

#include "core/status.h"

namespace paddock {

class Buffer {
 public:
  Buffer() = default;
  ~Buffer() { release(); }
  Buffer(Buffer&& o) noexcept : data_(o.data_), size_(o.size_), map_bytes_(o.map_bytes_) {
    o.data_ = nullptr;
    o.size_ = 0;
    o.map_bytes_ = 0;
  }
  Buffer& operator=(Buffer&& o) noexcept;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  // OUT_OF_MEMORY (naming `what`) when the request exceeds physical memory or malloc fails.
  Status allocate(size_t bytes, const char* what);
  // The same, 2 MiB aligned, in memory advised for transparent huge pages.
  Status allocate_huge(size_t bytes, const char* what);
  void release();

  void* data() const { return data_; }
  float* f32() const { return (float*)data_; }
  size_t size() const { return size_; }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
  size_t map_bytes_ = 0;  // non-zero: data_ is an anonymous mapping of this size (allocate_huge)
};

}  // namespace paddock
