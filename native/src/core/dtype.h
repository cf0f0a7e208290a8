// Element types of tensors, numbered as GGML/GGUF number them so a GGUF type id is a DType.
// Only F32/F16/BF16 run on the CPU backend so far; the others are known by size so a file that
// holds them can be validated and reported (UNSUPPORTED), and written back unchanged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "fp16.h"

namespace paddock {

enum class DType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
  IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22,
  IQ4_XS = 23, I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30,
};

struct DTypeInfo {
  const char* name;
  int64_t block_size;  // elements per block (1 for plain types)
  size_t type_size;    // bytes per block
};

// nullptr for an id this build does not know (its size is unknown, so it cannot be validated).
const DTypeInfo* dtype_info(uint32_t id);
const char* dtype_name(DType t);  // "F32", "Q4_K", ... ("?" if unknown)
// Bytes of `n` elements; false when n is not a multiple of the block size or the type is unknown.
bool dtype_row_bytes(DType t, int64_t n, size_t* bytes);
// Types the CPU forward can use for weight matrices today.
inline bool dtype_is_float(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16; }

// bfloat16 <-> float (fp16 <-> float lives in fp16.h).
inline float bf16_to_fp32(uint16_t h) {
  uint32_t bits = (uint32_t)h << 16;
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

inline uint16_t fp32_to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((bits >> 16) | 0x40u);  // quiet NaN
  return (uint16_t)((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

// The double nearest the shortest decimal that reads back as `f`: 1e-5f -> 1e-05, not
// 9.99999974e-06 (for showing float32 metadata to JavaScript).
double f32_as_decimal(float f);

// Converts n elements of a float type (F32/F16/BF16) to float. False for other types.
bool convert_to_f32(DType src_type, const void* src, float* dst, int64_t n);
// Converts n floats to F32/F16/BF16. False for other types.
bool convert_from_f32(const float* src, DType dst_type, void* dst, int64_t n);

}  // namespace paddock
