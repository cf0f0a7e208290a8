// GGUF v2/v3 container: header, typed key/values, tensor table, aligned tensor data.
// The parser works on bytes in memory (a mapped file, or a buffer in tests) and checks every
// length and count against the bytes that remain before it allocates anything, so a corrupt or
// hostile header yields BAD_MODEL_FILE and never a crash or a huge allocation.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/dtype.h"
#include "core/status.h"

namespace paddock {

constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" little-endian
constexpr uint32_t kGgufDefaultAlignment = 32;

enum class GgufType : uint32_t {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
};
const char* gguf_type_name(GgufType t);

struct GgufKV {
  std::string key;
  GgufType type = GgufType::UINT8;
  // scalars (integers in i or u by signedness, floats in f, bool in u)
  int64_t i = 0;
  uint64_t u = 0;
  double f = 0.0;
  std::string str;
  // arrays: element type and count; numbers stay in the file (raw), strings are decoded
  GgufType arr_type = GgufType::UINT8;
  uint64_t arr_n = 0;
  const uint8_t* arr_raw = nullptr;
  std::vector<std::string> arr_str;
};

struct GgufTensorInfo {
  std::string name;
  DType type = DType::F32;
  uint32_t n_dims = 0;
  int64_t ne[4] = {1, 1, 1, 1};
  uint64_t offset = 0;  // from the start of the data section
  size_t nbytes = 0;
};

struct GgufFile {
  std::string path;  // for messages
  const uint8_t* base = nullptr;
  size_t size = 0;
  uint32_t version = 0;
  uint32_t alignment = kGgufDefaultAlignment;
  uint64_t data_offset = 0;
  std::vector<GgufKV> kvs;
  std::vector<GgufTensorInfo> tensors;
  std::unordered_map<std::string, size_t> kv_index, tensor_index;

  const GgufKV* find(const std::string& key) const;
  const GgufTensorInfo* find_tensor(const std::string& name) const;
  const uint8_t* tensor_data(const GgufTensorInfo& t) const { return base + data_offset + t.offset; }

  // Typed getters: `found` false (and OK) when the key is absent; BAD_MODEL_FILE when present with
  // an incompatible type or value. Integers of any width convert when the value fits.
  Status get_u64(const std::string& key, uint64_t* out, bool* found) const;
  Status get_i64(const std::string& key, int64_t* out, bool* found) const;
  Status get_f32(const std::string& key, float* out, bool* found) const;
  Status get_bool(const std::string& key, bool* out, bool* found) const;
  Status get_string(const std::string& key, std::string* out, bool* found) const;
  Status get_string_array(const std::string& key, std::vector<std::string>* out, bool* found) const;
  Status get_f32_array(const std::string& key, std::vector<float>* out, bool* found) const;
  Status get_i32_array(const std::string& key, std::vector<int32_t>* out, bool* found) const;
};

// Parses header, key/values and tensor table of `size` bytes at `data` (which must outlive the
// result). Checks: magic, version 2/3, counts against the remaining bytes, string lengths, known
// value and tensor types, dims, general.alignment (a power of two), each tensor's offset
// alignment and that offset + size lies inside the file, no duplicate keys or tensor names.
Status gguf_parse(const uint8_t* data, size_t size, const std::string& path, GgufFile* out);

}  // namespace paddock
