// Standalone tokenizer files -> a Tokenizer, the format detected from the content:
//   - GGUF (a model or a vocab-only file: only the tokenizer.ggml.* keys are read, tensors are
//     neither checked nor mapped for use);
//   - SentencePiece tokenizer.model (a protobuf ModelProto, parsed by hand: pieces, trainer spec
//     model_type / byte_fallback / unk, bos, eos ids, normalizer spec add_dummy_prefix);
//   - tiktoken tokenizer.model (lines "base64 rank", Llama 3's special tokens after the last rank);
//   - HF tokenizer.json (model.type BPE: byte-level -> byte-level BPE; "▁" + byte_fallback (Llama 2
//     style) -> SentencePiece with merge ranks as scores);
//   - llama2.c tokenizer.bin.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "infer/tokenizer.h"
#include "infer/vocab.h"

namespace paddock {

struct GgufFile;

Status load_tokenizer_file(const std::string& path, std::shared_ptr<const Tokenizer>* out);

// SentencePiece ModelProto bytes -> a finalized Vocab ("llama" model). UNSUPPORTED for a unigram
// model (Paddock's SentencePiece encoder is BPE), BAD_MODEL_FILE for malformed protobuf.
Status parse_spm_model_proto(std::string_view data, const std::string& name, Vocab* out);

// HF tokenizer.json text -> a Tokenizer.
Status parse_hf_tokenizer_json(std::string_view data, const std::string& name, std::shared_ptr<const Tokenizer>* out);

// The tokenizer.ggml.* vocabulary of a parsed GGUF (defined in io/llama_gguf.cpp).
Status read_gguf_vocab(const GgufFile& g, Vocab* v);

}  // namespace paddock
