// Meta's Llama 2 and Llama 3 tokenizer.model files as the vocabularies a GGUF carries, so
// synthetic models of real shapes tokenize like the real ones (in Paddock and in llama.cpp).
//   - Llama 2: a SentencePiece ModelProto -> "llama" vocabulary (32,000 pieces, scores, types).
//   - Llama 3: a tiktoken file (128,000 ranks) -> "gpt2" vocabulary: pieces in GPT-2
//     byte-to-unicode form, merges reconstructed from the ranks, 256 special tokens named as in
//     Llama 3.1 / 3.2 (the shape `synth` writes is Llama 3.2 1B), pre-tokenizer "llama-bpe".
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "infer/vocab.h"

namespace paddock {

// Not finalized (callers that tokenize call Vocab::finalize).
Status load_llama2_vocab(const std::string& tokenizer_model_path, Vocab* out);
Status load_llama3_vocab(const std::string& tokenizer_model_path, Vocab* out);

// GPT-2 style merges ("left right", byte-to-unicode form) from tiktoken ranks, the way HF's
// TikToken converter (and so the tokenizer.json llama.cpp converts) derives them: every split of
// a token into two tokens, ordered by the rank of the token they form, then by the ranks of the
// left and right parts. Merging by this order is tiktoken's "lowest rank first".
std::vector<std::string> merges_from_ranks(const std::vector<std::string>& ranked_bytes);

// Llama 3.1 / 3.2 special token names, ids n_base .. n_base + 255.
std::vector<std::string> llama31_special_tokens();

}  // namespace paddock
