// A whole file mapped read-only into memory. Model weights are used in place from the mapping
// (no copy); the OS pages them in on first use and shares them between processes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"

namespace paddock {

class MappedFile {
 public:
  // IO for a missing/unreadable path or a directory; BAD_MODEL_FILE for an empty file.
  static Status open(const std::string& path, std::shared_ptr<MappedFile>* out);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile() = default;
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
#if defined(_WIN32)
  void* mapping_ = nullptr;
#endif
};

// Reads a whole (small) file into memory: tokenizer files, test vectors.
Status read_file(const std::string& path, std::string* out);

}  // namespace paddock
