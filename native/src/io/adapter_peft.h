// LoRA adapters as Hugging Face PEFT folders (what peft.PeftModel.from_pretrained loads):
//   adapter_config.json        {"peft_type": "LORA", "r", "lora_alpha", "lora_dropout",
//                               "target_modules": ["q_proj", ...], "bias": "none",
//                               "task_type": "CAUSAL_LM", "fan_in_fan_out": false,
//                               "inference_mode": true, "base_model_name_or_path", ...}
//   adapter_model.safetensors  "base_model.model.model.layers.{i}.self_attn.q_proj.lora_A.weight"
//                              [r, in] and "....lora_B.weight" [out, r] (mlp.gate_proj / up_proj /
//                              down_proj likewise), metadata {"format": "pt"}.
// PEFT's scale is lora_alpha / r (lora_alpha * sqrt(r) / r with use_rslora), as Paddock's.
// HF keeps q_proj/k_proj rows in rotate-half order while Paddock (and GGUF) keep Meta's
// interleaved pairs, so q/k lora_B rows are permuted on the way out and back on the way in
// (io/hf_checkpoint.h permute_rope_rows; k with n_kv_heads). lora_A acts on the input and is
// never permuted.
#pragma once

#include <string>

#include "core/status.h"
#include "model/lora.h"
#include "model/model.h"
#include "train/param_set.h"

namespace paddock {

// Writes the folder `dir` (created if needed; both files temp-then-renamed). F32 tensors.
Status export_adapter_peft(const Model& base, const LoraConfig& lc, const ParamSet& adapter, const std::string& dir);

// Reads a PEFT LoRA folder for `base` into GGUF LoRA names. UNSUPPORTED for PEFT features
// Paddock does not apply (DoRA, bias other than "none", fan_in_fan_out, rank/alpha patterns,
// modules outside q,k,v,o,gate,up,down); BAD_MODEL_FILE naming the file for malformed JSON,
// missing or misshapen tensors.
Status read_adapter_peft(const Model& base, const std::string& dir, LoraConfig* lc, ParamSet* params);

}  // namespace paddock
