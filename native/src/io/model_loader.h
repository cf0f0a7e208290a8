// Opens a model of any supported format: a folder is an HF checkpoint (config.json +
// safetensors, io/hf_checkpoint.h); a file is detected from its first bytes: GGUF (llama
// architecture) or a llama2.c checkpoint (legacy or version 1, with its tokenizer.bin).
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "model/model.h"

namespace paddock {

class MappedFile;

struct LoadOptions {
  // llama2.c tokenizer.bin (required to load a llama2.c model); for an HF folder, a tokenizer
  // file used instead of the folder's own.
  std::string tokenizer_path;
  // Header, hyperparameters and tensor table only, for readModelInfo: tensor types this build
  // cannot run are reported rather than refused, and nothing is copied or converted.
  bool info_only = false;
};

Status load_model(const std::string& path, const LoadOptions& opts, std::shared_ptr<Model>* out);

// Format readers (load_model picks one).
Status load_gguf_llama(std::shared_ptr<MappedFile> file, const LoadOptions& opts, Model* m);
Status load_llama2c(std::shared_ptr<MappedFile> file, const LoadOptions& opts, Model* m);
// llama2.c tokenizer.bin -> SentencePiece vocabulary ("▁" for space, types, <s> </s>).
Status read_llama2c_tokenizer(const std::string& path, int64_t vocab_size, Vocab* vocab);

// "dir/stories260K.bin" -> "stories260K"
std::string file_stem(const std::string& path);

}  // namespace paddock
