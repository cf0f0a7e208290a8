#include "io/safetensors_writer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "io/atomic_file.h"

namespace paddock {

std::string json_quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += (char)c;
    } else if (c < 0x20) {
      out += strprintf("\\u%04x", c);
    } else {
      out += (char)c;
    }
  }
  return out + "\"";
}

Status write_safetensors(const std::string& path, const std::vector<SafetensorsEntry>& tensors,
                         const std::vector<std::pair<std::string, std::string>>& metadata) {
  std::string header = "{";
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    for (size_t i = 0; i < metadata.size(); i++)
      header += (i ? "," : "") + json_quote(metadata[i].first) + ":" + json_quote(metadata[i].second);
    header += "}";
  }
  uint64_t offset = 0;
  for (const SafetensorsEntry& t : tensors) {
    if (header.size() > 1) header += ",";
    header += json_quote(t.name) + ":{\"dtype\":" + json_quote(t.dtype) + ",\"shape\":[";
    for (size_t i = 0; i < t.shape.size(); i++) header += (i ? "," : "") + std::to_string(t.shape[i]);
    header += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + t.nbytes) + "]}";
    offset += t.nbytes;
  }
  header += "}";
  while ((8 + header.size()) % 8 != 0) header += ' ';

  return write_file_atomically(path, [&](std::FILE* f) {
    uint8_t len[8];
    for (int i = 0; i < 8; i++) len[i] = (uint8_t)((uint64_t)header.size() >> (8 * i));
    bool ok = std::fwrite(len, 1, 8, f) == 8 && std::fwrite(header.data(), 1, header.size(), f) == header.size();
    for (const SafetensorsEntry& t : tensors)
      ok = ok && (t.nbytes == 0 || std::fwrite(t.data, 1, (size_t)t.nbytes, f) == t.nbytes);
    return ok ? Status() : PD_ERROR(IO, "cannot write %s: %s", path.c_str(), std::strerror(errno));
  });
}

}  // namespace paddock
