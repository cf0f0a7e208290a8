// A SentencePiece-style vocabulary, the form GGUF's tokenizer.ggml.* keys hold: pieces (with
// "▁" for space), scores (merge priority) and token types. llama2.c's tokenizer.bin is converted
// into the same structure, so one tokenizer serves both formats.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "infer/tokenizer.h"

namespace paddock {

enum TokenType : int32_t {
  kTokenUndefined = 0,
  kTokenNormal = 1,
  kTokenUnknown = 2,
  kTokenControl = 3,
  kTokenUserDefined = 4,
  kTokenUnused = 5,
  kTokenByte = 6,
};

struct Vocab {
  std::string model = "llama";  // tokenizer.ggml.model: "llama" (SentencePiece) or "gpt2" (byte-level BPE)
  std::string pre;              // tokenizer.ggml.pre ("gpt2": "llama-bpe" / "llama3")
  std::vector<std::string> merges;  // "gpt2": "left right" in rank order (GPT-2 byte-to-unicode form)
  std::vector<std::string> pieces;
  std::vector<float> scores;
  std::vector<int32_t> types;
  int32_t bos_id = 1, eos_id = 2, unk_id = 0;
  int32_t eot_id = -1;  // tokenizer.ggml.eot_token_id; -1: <|eot_id|> when the vocabulary has it
  bool add_bos = true, add_eos = false, add_space_prefix = true;

  // Built by finalize():
  std::unordered_map<std::string, int32_t> piece_to_id;  // pieces a merge may produce (normal, user-defined)
  int32_t byte_to_id[256];                               // <0xNN> tokens, -1 if absent
  std::shared_ptr<const Tokenizer> tokenizer;            // SPM or BPE over this vocabulary

  int64_t size() const { return (int64_t)pieces.size(); }
  bool valid_id(int64_t id) const { return id >= 0 && id < size(); }
  // Checks sizes and special ids (BAD_MODEL_FILE naming `source`), builds the lookup tables and
  // `tokenizer` (for "gpt2", the byte-level BPE from pieces + merges; control and user-defined
  // tokens are its special tokens).
  Status finalize(const std::string& source);
  // The bytes a token prints as: "▁" -> ' ', <0xNN> -> that byte, control/unknown/unused -> "".
  std::string token_bytes(int32_t id) const;
};

}  // namespace paddock
