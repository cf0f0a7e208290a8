// Owned, 64-byte aligned, uninitialised memory (activations, KV cache, converted weights).
// Pages are committed by the OS on first touch, so a large KV cache costs only what is used.
#pragma once

#include <cstddef>

#include "core/status.h"

namespace paddock {

class Buffer {
 public:
  Buffer() = default;
  ~Buffer() { release(); }
  Buffer(Buffer&& o) noexcept : data_(o.data_), size_(o.size_) { o.data_ = nullptr; o.size_ = 0; }
  Buffer& operator=(Buffer&& o) noexcept;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  // OUT_OF_MEMORY (naming `what`) when the request exceeds physical memory or malloc fails.
  Status allocate(size_t bytes, const char* what);
  void release();

  void* data() const { return data_; }
  float* f32() const { return (float*)data_; }
  size_t size() const { return size_; }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace paddock
