// Writes a loaded Model as a GGUF v3 llama file: general.*, llama.* hyperparameters, the
// tokenizer.ggml.* vocabulary of the model's own kind (SentencePiece "llama", or byte-level BPE
// "gpt2" with merges and pre for Llama 3), its chat template, and the weight matrices in F32,
// F16, BF16, Q8_0 or Q4_0 (1-D norm weights stay F32; quantized rows that are not whole blocks
// stay F16; a tied classifier writes no output.weight).
#pragma once

#include <string>

#include "core/dtype.h"
#include "io/gguf_writer.h"
#include "model/model.h"

namespace paddock {

// Fills `w` with the model's key/values and tensors (views into the model: keep it alive).
Status model_to_gguf(const Model& m, DType matrix_type, GgufWriter* w);
Status export_gguf(const Model& m, const std::string& out_path, DType matrix_type);

}  // namespace paddock
