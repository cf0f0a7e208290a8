// A tensor is a named, typed view of memory owned elsewhere (a mapped file or a Buffer).
// Shapes follow GGML: ne[0] is the contiguous dimension, so a [n_out, n_in] row-major weight
// matrix has ne = {n_in, n_out}; row(i) is output i.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/dtype.h"

namespace paddock {

struct Tensor {
  std::string name;
  DType type = DType::F32;
  int n_dims = 0;
  int64_t ne[4] = {1, 1, 1, 1};
  const void* data = nullptr;
  size_t nbytes = 0;
  // Optional: the same matrix repacked at load into the CPU decode kernels' interleaved-panel
  // layout (backend/cpu/weight_repack.h), used only by the quantized matvec / matmul. It is
  // valid only while packed_from == data (a copied view with new data must not reuse it).
  const void* packed = nullptr;
  const void* packed_from = nullptr;

  bool empty() const { return data == nullptr; }
  int64_t nelements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
  int64_t nrows() const { return ne[1] * ne[2] * ne[3]; }
  size_t row_bytes() const {
    size_t b = 0;
    dtype_row_bytes(type, ne[0], &b);
    return b;
  }
  const uint8_t* row(int64_t i) const { return (const uint8_t*)data + (size_t)i * row_bytes(); }
  // "[64, 512]" (GGML order) for messages.
  std::string shape_string() const;
};

// A 1-D or 2-D tensor view with the given shape over `data`.
Tensor make_tensor(std::string name, DType type, const void* data, int64_t ne0, int64_t ne1 = 0);

}  // namespace paddock
