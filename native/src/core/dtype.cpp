#include "core/dtype.h"

#include <cstdio>
#include <cstdlib>

namespace paddock {

// Sizes as GGML defines them (ggml.c type_traits): blck_size and type_size per block.
static const DTypeInfo* lookup(uint32_t id) {
  static const DTypeInfo table[] = {
      {"F32", 1, 4},        // 0
      {"F16", 1, 2},        // 1
      {"Q4_0", 32, 18},     // 2
      {"Q4_1", 32, 20},     // 3
      {nullptr, 0, 0},      // 4 (removed Q4_2)
      {nullptr, 0, 0},      // 5 (removed Q4_3)
      {"Q5_0", 32, 22},     // 6
      {"Q5_1", 32, 24},     // 7
      {"Q8_0", 32, 34},     // 8
      {"Q8_1", 32, 36},     // 9
      {"Q2_K", 256, 84},    // 10
      {"Q3_K", 256, 110},   // 11
      {"Q4_K", 256, 144},   // 12
      {"Q5_K", 256, 176},   // 13
      {"Q6_K", 256, 210},   // 14
      {"Q8_K", 256, 292},   // 15
      {"IQ2_XXS", 256, 66}, // 16
      {"IQ2_XS", 256, 74},  // 17
      {"IQ3_XXS", 256, 98}, // 18
      {"IQ1_S", 256, 50},   // 19
      {"IQ4_NL", 32, 18},   // 20
      {"IQ3_S", 256, 110},  // 21
      {"IQ2_S", 256, 82},   // 22
      {"IQ4_XS", 256, 136}, // 23
      {"I8", 1, 1},         // 24
      {"I16", 1, 2},        // 25
      {"I32", 1, 4},        // 26
      {"I64", 1, 8},        // 27
      {"F64", 1, 8},        // 28
      {"IQ1_M", 256, 56},   // 29
      {"BF16", 1, 2},       // 30
  };
  if (id >= sizeof table / sizeof table[0] || table[id].name == nullptr) return nullptr;
  return &table[id];
}

const DTypeInfo* dtype_info(uint32_t id) { return lookup(id); }

const char* dtype_name(DType t) {
  const DTypeInfo* info = lookup((uint32_t)t);
  return info ? info->name : "?";
}

bool dtype_row_bytes(DType t, int64_t n, size_t* bytes) {
  const DTypeInfo* info = lookup((uint32_t)t);
  if (!info || n < 0 || n % info->block_size != 0) return false;
  *bytes = (size_t)(n / info->block_size) * info->type_size;
  return true;
}

double f32_as_decimal(float f) {
  char buf[32];
  for (int digits = 6; digits <= 9; digits++) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, (double)f);
    const double d = std::strtod(buf, nullptr);
    if ((float)d == f) return d;
  }
  return (double)f;
}

bool convert_to_f32(DType src_type, const void* src, float* dst, int64_t n) {
  switch (src_type) {
    case DType::F32:
      std::memcpy(dst, src, (size_t)n * 4);
      return true;
    case DType::F16: {
      const uint16_t* s = (const uint16_t*)src;
      for (int64_t i = 0; i < n; i++) dst[i] = fp16_to_fp32(s[i]);
      return true;
    }
    case DType::BF16: {
      const uint16_t* s = (const uint16_t*)src;
      for (int64_t i = 0; i < n; i++) dst[i] = bf16_to_fp32(s[i]);
      return true;
    }
    default:
      return false;
  }
}

bool convert_from_f32(const float* src, DType dst_type, void* dst, int64_t n) {
  switch (dst_type) {
    case DType::F32:
      std::memcpy(dst, src, (size_t)n * 4);
      return true;
    case DType::F16: {
      uint16_t* d = (uint16_t*)dst;
      for (int64_t i = 0; i < n; i++) d[i] = fp32_to_fp16(src[i]);
      return true;
    }
    case DType::BF16: {
      uint16_t* d = (uint16_t*)dst;
      for (int64_t i = 0; i < n; i++) d[i] = fp32_to_bf16(src[i]);
      return true;
    }
    default:
      return false;
  }
}

}  // namespace paddock
