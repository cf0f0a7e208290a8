// The safetensors format (HF checkpoints): an 8-byte little-endian header length, a JSON header
// {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}} and the tensor
// bytes, offsets counted from the end of the header. Read from a mapping: tensors are views.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/dtype.h"
#include "core/status.h"

namespace paddock {

class MappedFile;

struct SafetensorsTensor {
  std::string name;
  std::string dtype;          // as written: "F32", "BF16", "I64", ...
  bool is_float = false;      // F32 / F16 / BF16, the types Paddock reads (then `type` is set)
  DType type = DType::F32;
  std::vector<int64_t> shape;  // row-major, outermost first (PyTorch order)
  const uint8_t* data = nullptr;
  uint64_t nbytes = 0;
};

struct SafetensorsFile {
  std::shared_ptr<MappedFile> file;
  std::vector<SafetensorsTensor> tensors;
  std::vector<std::pair<std::string, std::string>> metadata;  // "__metadata__" (string values)

  const SafetensorsTensor* find(const std::string& name) const;
  const std::string& path() const;
};

// Parses and validates the header of a mapped file: BAD_MODEL_FILE (naming the file, and the
// tensor where there is one) for a header length beyond the file, malformed JSON, a shape or
// offsets that disagree with the dtype, data outside the file; UNSUPPORTED for a dtype outside
// the safetensors list.
Status safetensors_parse(std::shared_ptr<MappedFile> file, SafetensorsFile* out);

}  // namespace paddock
