// Device memory for the CUDA forward: one arena per lifetime (weights + KV cache + scratch in
// one, adapters in another), laid out in two passes by the same code: a sizing pass (no base,
// every take() returns nullptr) gives the exact byte count to check against the free memory
// before anything is allocated, then the placing pass hands out 256-byte aligned pointers into a
// single allocation (one cudaMalloc: no fragmentation, one free, device_bytes() exact).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "backend/cuda/cuda_types.h"
#include "core/status.h"
#include "core/tensor.h"

namespace paddock {

class DeviceArena {
 public:
  DeviceArena() = default;
  ~DeviceArena() { release(); }
  DeviceArena(const DeviceArena&) = delete;
  DeviceArena& operator=(const DeviceArena&) = delete;

  // Sizing pass (before allocate): counts bytes, returns nullptr. Placing pass: the next block.
  void* take(size_t bytes);
  template <class T>
  T* take_n(int64_t n) {
    return (T*)take((size_t)n * sizeof(T));
  }
  size_t bytes_needed() const { return needed_; }
  // Allocates bytes_needed() and rewinds for the placing pass. OUT_OF_MEMORY saying how many
  // bytes `what` needs and how many are free when it does not fit.
  Status allocate(const char* what);
  // Frees the memory and forgets the sizes (the next take() starts a new sizing pass).
  void release();
  size_t allocated() const { return base_ ? needed_ : 0; }

 private:
  char* base_ = nullptr;
  size_t needed_ = 0;  // sizing: running total; after allocate: the total
  size_t cursor_ = 0;  // placing pass position
};

// A weight matrix on the device in its file type: rows = outputs (GGML ne[1]), cols = inputs.
struct DeviceMatrix {
  DType type = DType::F32;
  void* data = nullptr;
  int64_t rows = 0, cols = 0;
  const Tensor* host = nullptr;
  size_t bytes() const { return (size_t)rows * host->row_bytes(); }
};

// UNSUPPORTED naming the tensor when the CUDA kernels lack its type (pd_cuda::quant_supported).
Status check_device_weight(const Tensor& t);
// Reserves the matrix in `arena` (sizing or placing pass) and remembers its host tensor.
DeviceMatrix take_matrix(DeviceArena& arena, const Tensor& t);
// A 1-D F32 vector (norm weights): UNSUPPORTED naming it for any other type.
Status check_f32_vector(const Tensor& t);
// Copies the host tensor into its placed device block.
Status upload_matrix(const DeviceMatrix& m);
Status upload_bytes(void* dst, const void* src, size_t bytes, const char* what);

// "1.25 GiB" / "310.0 MiB" for messages.
std::string format_bytes(uint64_t bytes);

}  // namespace paddock
