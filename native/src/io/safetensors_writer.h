// Writes a .safetensors file (the layout io/safetensors.h reads): tensors in the order given,
// the JSON header padded with spaces so the data starts 8-byte aligned, as the reference writer
// does. Written to a temp file, then renamed.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace paddock {

struct SafetensorsEntry {
  std::string name;
  std::string dtype;           // "F32", "F16", "BF16", ...
  std::vector<int64_t> shape;  // outermost first
  const void* data = nullptr;
  uint64_t nbytes = 0;
};

Status write_safetensors(const std::string& path, const std::vector<SafetensorsEntry>& tensors,
                         const std::vector<std::pair<std::string, std::string>>& metadata = {});

// `s` as a JSON string literal, quotes included (for headers and HF side files).
std::string json_quote(const std::string& s);

}  // namespace paddock
