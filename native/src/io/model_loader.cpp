#include "io/model_loader.h"

#include <cstring>

#include "io/gguf.h"
#include "io/hf_checkpoint.h"
#include "io/mapped_file.h"

namespace paddock {

std::string file_stem(const std::string& path) {
  size_t slash = path.find_last_of("/\\");
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  size_t dot = base.find_last_of('.');
  return dot == std::string::npos || dot == 0 ? base : base.substr(0, dot);
}

Status load_model(const std::string& path, const LoadOptions& opts, std::shared_ptr<Model>* out) {
  if (is_directory(path)) {  // an HF checkpoint folder
    auto m = std::make_shared<Model>();
    m->path = path;
    PD_TRY(load_hf_checkpoint(path, opts, m.get()));
    *out = std::move(m);
    return Status();
  }
  std::shared_ptr<MappedFile> file;
  PD_TRY(MappedFile::open(path, &file));
  auto m = std::make_shared<Model>();
  m->path = path;
  m->file_bytes = file->size();
  uint32_t magic = 0;
  if (file->size() >= 4) std::memcpy(&magic, file->data(), 4);
  if (magic == kGgufMagic) {
    m->format = ModelFormat::GGUF;
    PD_TRY(load_gguf_llama(file, opts, m.get()));
  } else {
    m->format = ModelFormat::Llama2c;  // also the fallback that explains "unknown format"
    PD_TRY(load_llama2c(file, opts, m.get()));
  }
  m->file = std::move(file);
  *out = std::move(m);
  return Status();
}

}  // namespace paddock
