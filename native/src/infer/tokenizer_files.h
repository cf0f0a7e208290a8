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

// Special-token choices that come from beside the tokenizer file (an HF folder's
// generation_config.json / tokenizer_config.json), by id or by token text. Unset fields (-1,
// empty) keep what the tokenizer file says; an id or text the vocabulary lacks is ignored.
struct TokenizerOverrides {
  int32_t bos_id = -1, eos_id = -1;
  std::string bos_text, eos_text;
  int add_bos = -1;  // -1 unset, else 0 / 1
};

// Any tokenizer file load_tokenizer_file reads (or an HF folder: its tokenizer.json, else its
// tokenizer.model) -> a finalized Vocab whose `tokenizer` is set, as a Model holds it.
Status load_tokenizer_vocab(const std::string& path, const TokenizerOverrides& overrides, Vocab* out);

// "dir/tokenizer.json", else "dir/tokenizer.model", else "" (an HF folder's tokenizer).
std::string find_tokenizer_in_folder(const std::string& dir);

// SentencePiece ModelProto bytes -> a finalized Vocab ("llama" model). UNSUPPORTED for a unigram
// model (Paddock's SentencePiece encoder is BPE), BAD_MODEL_FILE for malformed protobuf.
Status parse_spm_model_proto(std::string_view data, const std::string& name, Vocab* out);

// HF tokenizer.json text -> a Tokenizer / a finalized Vocab.
Status parse_hf_tokenizer_json(std::string_view data, const std::string& name, std::shared_ptr<const Tokenizer>* out);
Status vocab_from_hf_tokenizer_json(std::string_view data, const std::string& name, const TokenizerOverrides& overrides,
                                    Vocab* out);

// The tokenizer.ggml.* vocabulary of a parsed GGUF (defined in io/llama_gguf.cpp).
Status read_gguf_vocab(const GgufFile& g, Vocab* v);

}  // namespace paddock
