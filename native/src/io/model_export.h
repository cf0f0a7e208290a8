// Writes a loaded Model as a GGUF v3 llama file: general.*, llama.* hyperparameters, the
// tokenizer.ggml.* vocabulary of the model's own kind (SentencePiece "llama", or byte-level BPE
// "gpt2" with merges and pre for Llama 3), its chat template, and the weight matrices in F32,
// F16, BF16, Q8_0 or Q4_0, or llama.cpp's Q4_K_M mix (1-D norm weights stay F32; quantized rows
// that are not whole blocks stay F16; a tied classifier writes no output.weight). Exports that
// change weights (a merged adapter, fine-tuned weights) stream the new rows in through
// GgufExportOptions::rows, so no second copy of the model is made.
#pragma once

#include <functional>
#include <string>

#include "core/dtype.h"
#include "io/gguf_writer.h"
#include "model/model.h"

namespace paddock {

// The model's tokenizer.chat_template ("" when it has none).
std::string model_chat_template(const Model& m);

// Writes row `row` of a tensor as n = ne[0] floats (the tensor's new values).
using ExportRowSource = std::function<void(int64_t row, float* out)>;

struct GgufExportOptions {
  // F32, F16, BF16, Q8_0, Q4_0, or Q4_K for llama.cpp's Q4_K_M mix (general.file_type 15):
  // Q4_K, with Q6_K for output.weight (token_embd.weight when tied) and for attn_v / ffn_down
  // in the layers llama.cpp's use_more_bits picks (io/synthetic_gguf.h synth_tensor_type). A
  // K-quant needs rows that are multiples of 256: otherwise Q8_0 (llama.cpp picks Q5_0 for Q4_K,
  // a type Paddock does not run; Q8_0 for Q6_K as llama.cpp), and F16 when rows are not even
  // multiples of 32 (as llama.cpp).
  DType matrix_type = DType::F32;
  // For tensors whose values differ from the model's: their row source; an empty function (or
  // no `rows` at all) keeps the model's own values.
  std::function<ExportRowSource(const Tensor&)> rows;
};

// The type a tensor is written in for `matrix_type` (see GgufExportOptions).
DType export_tensor_type(const Model& m, const Tensor& t, DType matrix_type);

Status model_to_gguf(const Model& m, const GgufExportOptions& opts, GgufWriter* w);
Status export_gguf(const Model& m, const std::string& out_path, const GgufExportOptions& opts);

// Fills `w` with the model's key/values and tensors (views into the model: keep it alive).
Status model_to_gguf(const Model& m, DType matrix_type, GgufWriter* w);
Status export_gguf(const Model& m, const std::string& out_path, DType matrix_type);

}  // namespace paddock
