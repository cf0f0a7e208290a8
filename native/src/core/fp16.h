// IEEE binary16 <-> binary32, exact (round-to-nearest-even, subnormals, inf, quiet NaN), so
// results equal the F16C instructions bit for bit. One implementation for the whole engine.
// `static inline` on purpose: each translation unit gets its own copy, so a copy compiled in an
// AVX2 file (*_avx2.cpp) can never be picked by the linker for code that runs on older CPUs.
#pragma once

#include <cstdint>
#include <cstring>

namespace paddock {

static inline float fp16_to_fp32(uint16_t h) {
  const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t man = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    float f = (float)man * (1.0f / 16777216.0f);  // man * 2^-24 is exact
    std::memcpy(&bits, &f, 4);
    bits |= sign;
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (man << 13) | (man ? 0x400000u : 0u);
  } else {
    bits = sign | ((exp + 112u) << 23) | (man << 13);
  }
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

static inline uint16_t fp32_to_fp16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  const uint32_t sign = (bits >> 16) & 0x8000u;
  uint32_t a = bits & 0x7fffffffu;
  if (a > 0x7f800000u) return (uint16_t)(sign | 0x7e00u | ((a >> 13) & 0x3ffu));  // quiet NaN
  if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);  // rounds to >= 65520: inf
  if (a < 0x38800000u) {
    // half-subnormal range: adding 0.5 aligns the rounding point with float's last mantissa bit,
    // so the FPU does the round-to-nearest-even.
    float v;
    std::memcpy(&v, &a, 4);
    v += 0.5f;
    uint32_t vb;
    std::memcpy(&vb, &v, 4);
    return (uint16_t)(sign | (vb - 0x3f000000u));
  }
  const uint32_t odd = (a >> 13) & 1u;
  a += 0xc8000fffu + odd;  // rebias the exponent (-112 << 23, mod 2^32) and round half to even
  return (uint16_t)(sign | (a >> 13));
}

}  // namespace paddock
