// tiktoken vocabulary files (Meta's Llama 3 `tokenizer.model`): one line per
// token, "base64(bytes) rank". Special tokens are not in the file: the model
// family defines them after the last rank.
#pragma once

#include "infer/bpe_tokenizer.h"

#include <string>
#include <string_view>
#include <vector>

namespace paddock {

// Parses the file's text; ranked_bytes[rank] = bytes (gaps stay empty).
// `name` only labels error messages.
BpeStatus bpe_parse_tiktoken(std::string_view data, const std::string& name,
                             std::vector<std::string>* ranked_bytes);

// Llama 3 (Meta-Llama-3-8B / -70B, llama3 repo's tokenizer.py): 256 specials
// from n_base (128000): begin_of_text, end_of_text, reserved_special_token_0..3,
// start_header_id, end_header_id, reserved_special_token_4, eot_id, then
// reserved_special_token_5..250. (Llama 3.1+ renames some reserved ones; their
// GGUF and tokenizer.json carry the names, so load those through init_from_merges.)
std::vector<BpeSpecialToken> bpe_llama3_special_tokens(int32_t n_base = 128000);

// Reads a tiktoken file and initialises *tok with Llama 3's special tokens
// after the last rank.
BpeStatus bpe_load_tiktoken_file(const std::string& path, BpeTokenizer* tok, const BpeOptions& options = {});

}  // namespace paddock
