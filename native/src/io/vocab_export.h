// A Vocab as GGUF tokenizer.ggml.* key/values, in the form llama.cpp's converter writes them:
// "llama" (SentencePiece: tokens, scores, types) or "gpt2" (byte-level BPE: tokens, types,
// merges, pre). Shared by model export and the synthetic-model writer so both write the same keys.
#pragma once

#include <string>

#include "core/status.h"
#include "infer/vocab.h"
#include "io/gguf_writer.h"

namespace paddock {

// INVALID_ARGUMENT for a "gpt2" vocabulary without merges (nothing could tokenize it back) or a
// tokenizer kind GGUF has no name for. chat_template: written as tokenizer.chat_template when
// not empty.
Status set_vocab_kvs(const Vocab& v, const std::string& chat_template, GgufWriter* w);

}  // namespace paddock
