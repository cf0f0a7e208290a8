// A small, generic GGUF v3 writer: typed key/values in insertion order plus tensors, each
// tensor converted row by row from its source type (F32/F16/BF16 between each other, any type
// to itself) so no whole-model copy is made. Used for model exports, and later for adapters and
// synthetic models. Files are written to "<path>.tmp-<pid>", flushed, then renamed over `path`.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/status.h"
#include "io/gguf.h"

namespace paddock {

class GgufWriter {
 public:
  explicit GgufWriter(uint32_t alignment = kGgufDefaultAlignment) : alignment_(alignment) {}

  void set_string(const std::string& key, const std::string& v);
  void set_u32(const std::string& key, uint32_t v);
  void set_i32(const std::string& key, int32_t v);
  void set_u64(const std::string& key, uint64_t v);
  void set_f32(const std::string& key, float v);
  void set_bool(const std::string& key, bool v);
  void set_string_array(const std::string& key, const std::vector<std::string>& v);
  void set_f32_array(const std::string& key, const std::vector<float>& v);
  void set_i32_array(const std::string& key, const std::vector<int32_t>& v);

  // `ne` in GGML order (ne[0] contiguous); `data` (in src_type, n rows of ne[0]) must stay valid
  // until write. INVALID_ARGUMENT at write time for an impossible conversion or shape.
  void add_tensor(const std::string& name, DType type, const std::vector<int64_t>& ne, const void* data,
                  DType src_type);

  // A tensor whose bytes (already in `type`) are produced at write time, a chunk of rows at a
  // time: fill(row0, n_rows, dst) writes n_rows rows starting at row0 into dst. Lets a writer
  // stream tensors that never exist in memory all at once (synthetic multi-GB models).
  using RowFill = std::function<Status(int64_t row0, int64_t n_rows, uint8_t* dst)>;
  void add_tensor_rows(const std::string& name, DType type, const std::vector<int64_t>& ne, RowFill fill);

  Status write_file(const std::string& path) const;
  Status write_to_memory(std::vector<uint8_t>* out) const;

 private:
  struct KV {
    std::string key;
    GgufType type, arr_type;
    std::vector<uint8_t> raw;              // scalar or numeric array payload
    std::string str;
    std::vector<std::string> strs;
    uint64_t arr_n = 0;
  };
  struct TensorEntry {
    std::string name;
    DType type, src_type;
    std::vector<int64_t> ne;
    const void* data;
    size_t nbytes;
    RowFill fill;  // when set, data is unused
  };
  class Sink;
  KV& put(const std::string& key, GgufType type);
  Status check() const;
  Status write(Sink& out) const;

  uint32_t alignment_;
  std::vector<KV> kvs_;
  std::vector<TensorEntry> tensors_;
};

}  // namespace paddock
