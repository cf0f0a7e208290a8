// An HF checkpoint's config.json (LlamaForCausalLM / MistralForCausalLM) -> LlamaConfig, plus
// what GGUF would carry elsewhere: the Llama 3.1 RoPE scaling as per-frequency factors.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "model/llama_config.h"

namespace paddock {

struct Json;

struct HfConfig {
  LlamaConfig config;            // tied_embeddings = tie_word_embeddings (HF's default: false)
  std::string architecture;      // the entry of "architectures" Paddock accepted
  std::string torch_dtype;       // as written ("bfloat16", ...), "" when absent
  int32_t bos_token_id = -1, eos_token_id = -1;  // config.json's own, -1 when absent
  // rope_scaling {"rope_type": "llama3", ...}: factors computed by llama3_rope_factors().
  bool llama3_rope = false;
  double rope_factor = 8.0, low_freq_factor = 1.0, high_freq_factor = 4.0;
  double original_context = 8192.0;
};

// BAD_MODEL_FILE naming `path` for malformed JSON, a missing or non-integer size; UNSUPPORTED for
// another architecture, an unknown RoPE scaling or a head_dim other than hidden_size / heads.
Status parse_hf_config(std::string_view text, const std::string& path, HfConfig* out);

// The head_dim / 2 frequency factors Llama 3.1 RoPE scaling applies (1 for short wavelengths,
// `factor` for long ones, a smooth blend between), computed the way llama.cpp's converter writes
// rope_freqs.weight, so an HF checkpoint and its GGUF conversion run identically.
std::vector<float> llama3_rope_factors(const HfConfig& c);

// Token id fields of config.json / generation_config.json: a number, or a list whose first
// entry is taken (Llama 3 lists several EOS ids; the tokenizer ends generation on all of them).
int32_t hf_token_id(const Json* j);

}  // namespace paddock
