// An HF checkpoint folder -> Model: config.json, model.safetensors or shards listed by
// model.safetensors.index.json, tokenizer.json (else tokenizer.model), and the optional
// generation_config.json / tokenizer_config.json (special tokens, chat template).
// Weights are views into the mapped shards, except q_proj / k_proj, whose rows are permuted from
// HF's rotate-half RoPE layout into the interleaved pairs the forward uses (owned copies, a small
// part of the weights), norm weights converted to F32, and tensors too misaligned to use in place.
#pragma once

#include <string>

#include "core/status.h"

namespace paddock {

struct LoadOptions;
struct Model;

// True for a folder (what load_model hands to load_hf_checkpoint).
bool is_directory(const std::string& path);

// opts.tokenizer_path, when set, replaces the folder's tokenizer files.
Status load_hf_checkpoint(const std::string& dir, const LoadOptions& opts, Model* m);

// Permutes the rows of a q_proj / k_proj matrix ([n_heads * head_dim] rows of row_bytes) from
// HF's rotate-half order to interleaved RoPE pairs (as llama.cpp's converter does). `inverse`
// goes back (writing an HF checkpoint).
void permute_rope_rows(const uint8_t* src, uint8_t* dst, int64_t n_heads, int64_t head_dim, size_t row_bytes,
                       bool inverse = false);

}  // namespace paddock
