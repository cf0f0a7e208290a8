// IEEE binary16 <-> binary32. The scalar forms are exact (round-to-nearest-even, subnormals,
// inf, NaN made quiet) so they give the same bits as the F16C instructions; the row forms pick
// F16C at run time. Block scales are converted one at a time with the scalar forms in
// reference code and with F16C inside SIMD kernels.
#pragma once

#include <cstdint>
#include <cstring>

#include "quant_blocks.h"

namespace paddock::quant {

inline float fp16_to_fp32(f16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t man = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    // zero or subnormal: man * 2^-24 is exact in float
    float f = float(man) * (1.0f / 16777216.0f);
    std::memcpy(&bits, &f, 4);
    bits |= sign;
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (man << 13) | (man ? 0x400000u : 0u);  // NaN comes out quiet
  } else {
    bits = sign | ((exp + 112u) << 23) | (man << 13);
  }
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

inline f16_t fp32_to_fp16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  const uint32_t sign = (bits >> 16) & 0x8000u;
  uint32_t a = bits & 0x7fffffffu;
  if (a > 0x7f800000u) return f16_t(sign | 0x7e00u | ((a >> 13) & 0x3ffu));  // NaN: quiet, payload truncated
  if (a >= 0x477ff000u) return f16_t(sign | 0x7c00u);              // rounds to >= 65520: inf
  if (a < 0x38800000u) {
    // half subnormal range: adding 0.5 puts the rounding point at bit 0 of the mantissa and
    // lets the FPU do the round-to-nearest-even for us.
    float v;
    std::memcpy(&v, &a, 4);
    v += 0.5f;
    uint32_t vb;
    std::memcpy(&vb, &v, 4);
    return f16_t(sign | (vb - 0x3f000000u));
  }
  const uint32_t odd = (a >> 13) & 1u;
  a += 0xc8000fffu + odd;  // rebias exponent (-112 << 23, mod 2^32) and round half to even
  return f16_t(sign | (a >> 13));
}

// fp16_to_fp32 of all 65536 halves (256 KiB, built on first call; thread-safe). The SIMD
// kernels read block scales through it: a broadcast load from the table is a pure load,
// while F16C's register form competes with the kernel's shuffles for the same port.
const float* fp16_table();

// Row conversions; F16C when the CPU has it.
void fp16_to_fp32_row(const f16_t* x, float* y, int64_t n);
void fp32_to_fp16_row(const float* x, f16_t* y, int64_t n);

}  // namespace paddock::quant
