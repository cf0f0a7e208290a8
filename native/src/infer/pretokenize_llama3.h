// Llama 3 pre-tokenizer: splits text into the pieces that BPE then encodes
// one by one. It is a hand-written scanner equivalent to the regex
//
//   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
//    ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// (Meta's tiktoken pattern, shared with OpenAI's cl100k), because neither
// std::regex nor JavaScript's RegExp supports it. Semantics are those of a
// backtracking engine (tiktoken uses fancy-regex): alternatives are tried left
// to right, quantifiers are greedy. Invalid UTF-8 bytes are single "other"
// characters (see unicode_utf8.h), so every byte of the input lands in a piece.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace paddock {

// End (byte offset, exclusive) of the piece that starts at `pos` < text.size().
size_t pretokenize_llama3_next(std::string_view text, size_t pos);

// All pieces of `text`, in order; they concatenate back to `text`.
std::vector<std::string_view> pretokenize_llama3(std::string_view text);

}  // namespace paddock
