// Multi-output kernels written as loops over a table's single-output dot, for the baseline
// table (the SIMD tables have register-blocked forms). Each output is exactly that dot, as
// kernels.h promises.
// In an anonymous namespace: every kernels_*.cpp instantiates its own copy with its own flags.
#pragma once

#include <cstdint>

namespace paddock {
namespace {

// Tokens in a tile of 16: each weight row is read from cache once per tile, not once per token.
template <float (*Dot)(const float*, const float*, int64_t)>
void gemm_by_dots(const float* w, int64_t ldw, int64_t R, const float* x, int64_t ldx, int64_t C, int64_t n,
                  float* y, int64_t ldy) {
  for (int64_t t0 = 0; t0 < C; t0 += 16) {
    const int64_t t1 = t0 + 16 < C ? t0 + 16 : C;
    for (int64_t r = 0; r < R; r++)
      for (int64_t t = t0; t < t1; t++) y[t * ldy + r] = Dot(w + r * ldw, x + t * ldx, n);
  }
}

template <float (*Dot)(const uint16_t*, const float*, int64_t)>
void matvec_by_dots(const uint16_t* w, int64_t R, const float* x, int64_t n, float* y) {
  for (int64_t r = 0; r < R; r++) y[r] = Dot(w + r * n, x, n);
}

}  // namespace
}  // namespace paddock
