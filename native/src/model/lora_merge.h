// Merged exports: a base model plus a LoRA adapter (W' = W + (alpha / r) B A) or plus fully
// fine-tuned weights, written as one GGUF (F32, F16, Q8_0 or llama.cpp's Q4_K_M mix) with an
// Ollama Modelfile beside it. Rows are computed in F32 one at a time while the file is written
// (a quantized base is dequantized row by row); the base model file is never touched.
#pragma once

#include <string>

#include "core/dtype.h"
#include "core/status.h"
#include "model/lora.h"
#include "model/model.h"
#include "train/param_set.h"

namespace paddock {

// w_row[0..n_in) += scale * sum_k B[row, k] * A[k, :] (row `row` of W + scale B A), in float
// with the rank summed innermost-last, as the merged export computes it.
void lora_merge_row(const Param& a, const Param& b, float scale, int64_t row, float* w_row);

// "f32" | "f16" | "q8_0" | "q4_k_m" (any case) -> the GgufExportOptions matrix type (Q4_K means
// the Q4_K_M mix). INVALID_ARGUMENT naming the accepted values otherwise.
Status merged_export_type(const std::string& type, DType* out);

// Writes base + adapter (lc and adapter set, full_weights null) or the fine-tuned weights
// (full_weights: GGUF names as full_params_from_model makes them; tensors it lacks keep the
// base's values) as a GGUF at `path`, and the Modelfile at modelfile_path_for(path).
// INVALID_ARGUMENT when neither or both are given, or for an unknown type; BAD_MODEL_FILE for
// an adapter or weights that do not fit the base (names the tensor).
Status export_merged_gguf(const Model& base, const LoraConfig* lc, const ParamSet* adapter,
                          const ParamSet* full_weights, const std::string& type, const std::string& path);

// "out/model.gguf" -> "out/model.Modelfile" (the extension replaced; appended when none).
std::string modelfile_path_for(const std::string& gguf_path);

// An Ollama Modelfile for `gguf_path` (FROM ./<file name>): with the model's chat template a
// TEMPLATE in Ollama's Go syntax and PARAMETER stop lines for the families Paddock knows
// (Llama 3 header tokens, ChatML, Llama 2 [INST]); an unknown template writes FROM only, so
// Ollama takes tokenizer.chat_template from the GGUF. A model with no template gets ChatML as
// plain text, Paddock's own convention for such models.
std::string ollama_modelfile(const Model& m, const std::string& gguf_path);

}  // namespace paddock
