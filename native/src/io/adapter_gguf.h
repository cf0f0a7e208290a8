// LoRA adapters as GGUF files, in llama.cpp's convention (what its llama-adapter.cpp loads):
//   general.architecture = the base's ("llama"), general.type = "adapter",
//   adapter.type = "lora", adapter.lora.alpha (float32);
//   per adapted matrix two tensors named by the base tensor's full name plus a suffix:
//   "blk.N.attn_q.weight.lora_a" ne [n_in, r] (A, [r, n_in] row-major) and
//   "blk.N.attn_q.weight.lora_b" ne [r, n_out] (B, [n_out, r]); no norm tensors.
// llama.cpp applies y += scale * (alpha / r) * B (A x), scale being the user's multiplier.
// Paddock writes F32 tensors; it reads F32, F16, BF16 and any quant type it can dequantize.
#pragma once

#include <string>

#include "core/status.h"
#include "model/lora.h"
#include "model/model.h"
#include "train/param_set.h"

namespace paddock {

// Writes `adapter` (tensors under GGUF LoRA names, bound by lora_bind for `base`) to `path`
// (temp file, then renamed). BAD_MODEL_FILE when a tensor the config targets is missing or
// misshapen.
Status export_adapter_gguf(const Model& base, const LoraConfig& lc, const ParamSet& adapter, const std::string& path);

// Reads a GGUF LoRA adapter for `base`. *lc gets rank (from the tensors), alpha (absent or 0:
// alpha = rank, i.e. scale 1, as llama.cpp does), the targets present and dropout 0.
// BAD_MODEL_FILE naming the file for a wrong general.type / adapter.type, another
// architecture, unknown or misshapen tensors, a target present in some layers only, ranks
// that differ between tensors.
Status read_adapter_gguf(const Model& base, const std::string& path, LoraConfig* lc, ParamSet* params);

// A GGUF LoRA file, or a PEFT folder (io/adapter_peft.h; a path to the folder's
// adapter_model.safetensors or adapter_config.json also names the folder).
Status load_adapter_file(const Model& base, const std::string& path, LoraConfig* lc, ParamSet* params);

// llama.cpp's name of A or B for a matrix: "blk.12.ffn_down.weight.lora_b" (the names lora_create uses).
std::string lora_tensor_name(int64_t layer, LoraTarget target, bool is_b);
// "blk.12.ffn_down.weight.lora_b" -> layer 12, Down, is_b. False for any other name.
bool parse_lora_tensor_name(const std::string& name, int64_t* layer, LoraTarget* target, bool* is_b);

// lora_bind for a read-only ParamSet: the pointer table is only used to check names/shapes.
Status check_adapter_params(const Model& base, const LoraConfig& lc, const ParamSet& adapter,
                            const std::string& source, LoraWeights* table);

}  // namespace paddock
