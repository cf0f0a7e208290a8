// SentencePiece BPE encoding as llama.cpp's llm_tokenizer_spm does it (and llama2.c's encode, a
// simpler form of the same): a space is put in front of the text (the "dummy prefix"), spaces
// become "▁", the text is split into UTF-8 characters and adjacent symbols are merged greedily,
// always the pair whose merged piece has the highest score (leftmost on ties). Characters with
// no piece fall back to their UTF-8 bytes as <0xNN> tokens. Special tokens are never parsed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "infer/vocab.h"

namespace paddock {

std::vector<int32_t> tokenize_spm(const Vocab& vocab, const std::string& text, bool add_bos);

}  // namespace paddock
