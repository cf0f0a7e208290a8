// Host-side operand matrices for the GEMM tests: a matrix in a device element format (F32, BF16,
// F16) as raw bytes, read and written as float, and a random fill that leaves NaN in the row
// padding (so a kernel reading past a row's end shows). Used by gemm_test_case.h and the wgmma
// emulator checks.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "backend/cuda/cuda_types.h"
#include "core/dtype.h"
#include "core/fp16.h"

namespace cudatest {

struct HostMatrix {
  pd_cuda::Elem type;
  size_t n;
  std::vector<unsigned char> bytes;
  HostMatrix(pd_cuda::Elem t, size_t count) : type(t), n(count), bytes(count * pd_cuda::elem_bytes(t)) {}
  float get(size_t i) const {
    if (type == pd_cuda::Elem::F32) {
      float v;
      std::memcpy(&v, &bytes[4 * i], 4);
      return v;
    }
    uint16_t bits;
    std::memcpy(&bits, &bytes[2 * i], 2);
    return type == pd_cuda::Elem::BF16 ? paddock::bf16_to_fp32(bits) : paddock::fp16_to_fp32(bits);
  }
  // Stores v rounded to the element type (round to nearest even).
  void set(size_t i, float v) {
    if (type == pd_cuda::Elem::F32) {
      std::memcpy(&bytes[4 * i], &v, 4);
      return;
    }
    const uint16_t bits = type == pd_cuda::Elem::BF16 ? paddock::fp32_to_bf16(v) : paddock::fp32_to_fp16(v);
    std::memcpy(&bytes[2 * i], &bits, 2);
  }
  void set_nan(size_t i) { set(i, std::nanf("")); }
};

// rows x cols at stride ld (>= cols) after `shift` leading elements: uniform values in [-1, 1]
// in the valid area, NaN in the padding and the shift.
inline HostMatrix random_matrix(pd_cuda::Elem t, int rows, int cols, int64_t ld, int shift, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  HostMatrix h(t, (size_t)shift + (size_t)rows * ld);
  for (size_t i = 0; i < h.n; i++) h.set_nan(i);
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++) h.set(shift + (size_t)r * ld + c, u(rng));
  return h;
}

}  // namespace cudatest
