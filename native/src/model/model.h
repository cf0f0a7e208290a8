// A loaded model: hyperparameters, vocabulary, weight views and the storage behind them (a
// read-only mapping of the file, plus buffers for tensors that had to be converted or copied).
// Immutable once loaded, so contexts on several threads may share one Model.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/buffer.h"
#include "infer/vocab.h"
#include "model/llama_config.h"
#include "model/llama_weights.h"

namespace paddock {

class MappedFile;

enum class ModelFormat { GGUF, Llama2c, HF };  // HF: config.json + *.safetensors folder

// A scalar metadata value (GGUF key/values; arrays are summarised as their length).
struct MetaValue {
  enum Kind { Number, String, Bool } kind = Number;
  double number = 0.0;
  std::string string;
  bool boolean = false;
};

struct Model {
  ModelFormat format = ModelFormat::GGUF;
  std::string path;
  std::string name;                   // general.name, or the file name without extension
  std::string architecture = "llama";
  LlamaConfig config;
  Vocab vocab;
  LlamaWeights weights;
  bool vocab_only = false;            // a GGUF with no tensors: tokenizes, cannot run
  bool has_vocab = true;              // false for a llama2.c checkpoint read without tokenizer
  std::vector<std::pair<std::string, MetaValue>> metadata;
  uint64_t file_bytes = 0;
  uint64_t parameter_count = 0;
  std::string tensor_type = "none";   // the dominant weight type ("F32", "F16", ...)

  std::shared_ptr<MappedFile> file;   // keeps mapped tensor data alive
  std::vector<std::shared_ptr<MappedFile>> shards;  // further mapped files (sharded safetensors)
  std::vector<Buffer> owned;          // tensors converted or copied at load

  const char* format_name() const {
    return format == ModelFormat::GGUF ? "gguf" : format == ModelFormat::HF ? "hf" : "llama2c";
  }
};

// Sets parameter_count and tensor_type from the weights (the type holding most parameters).
void summarize_weights(Model* m);

}  // namespace paddock
