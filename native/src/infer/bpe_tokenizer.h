// Byte-level BPE tokenizer (Llama 3, tiktoken style).
//
// encode: optional split on special-token strings -> Llama 3 pre-split
// (pretokenize_llama3.h) -> per piece, a whole-piece lookup or byte-pair merges
// by lowest rank (bpe_merge.h). decode: concatenation of token bytes.
//
// Two ways in, both fed by the engine's loaders:
//   - init_from_ranks: raw token bytes by id, rank = id (tiktoken's
//     tokenizer.model; see bpe_tiktoken_file.h for the file itself);
//   - init_from_merges: GGUF tokenizer.ggml.tokens/merges ("gpt2" model) or HF
//     tokenizer.json model.vocab/merges, strings in GPT-2 byte-to-unicode form,
//     rank = position in the merges list.
//
// Errors are values (BpeStatus); nothing here throws on bad input or exits.
// A loaded tokenizer is immutable: encode/decode may run on many threads.
#pragma once

#include "infer/bpe_merge.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace paddock {

// Self-contained status so the tokenizer builds alone; the engine maps it onto
// its own Status (code + message + file:line).
struct BpeStatus {
  enum Code { OK = 0, IO_ERROR, BAD_FORMAT, INVALID_ARGUMENT };

  Code code = OK;
  std::string message;
  const char* file = nullptr;
  int line = 0;

  bool ok() const { return code == OK; }
};

#define BPE_ERROR(code, msg) (::paddock::BpeStatus{::paddock::BpeStatus::code, (msg), __FILE__, __LINE__})

// A control token matched as a whole string (with parse_special) and never
// produced by BPE, e.g. {128000, "<|begin_of_text|>"}.
struct BpeSpecialToken {
  int32_t id;
  std::string text;
};

struct BpeOptions {
  // Emit a pre-split piece as one token when it is in the vocabulary, before
  // any merging. tiktoken always does this; llama.cpp calls it ignore_merges
  // (on for Llama 3), HF tokenizer.json has "ignore_merges": true for it.
  bool whole_piece_lookup = true;
};

class BpeTokenizer {
 public:
  BpeTokenizer() = default;
  // Lookup maps view into arena_: moving keeps its buffer, a copy would not.
  BpeTokenizer(const BpeTokenizer&) = delete;
  BpeTokenizer& operator=(const BpeTokenizer&) = delete;
  BpeTokenizer(BpeTokenizer&&) = default;
  BpeTokenizer& operator=(BpeTokenizer&&) = default;

  // ranked_bytes[id] holds the raw bytes of token `id` (empty = id unused);
  // the rank of a token is its id. Special ids must not be used by a token.
  // Both inits leave the tokenizer unchanged when they fail.
  BpeStatus init_from_ranks(const std::vector<std::string>& ranked_bytes,
                            const std::vector<BpeSpecialToken>& specials, const BpeOptions& options = {});

  // tokens[id] in GPT-2 byte-to-unicode form, except the ids listed in
  // `specials` (raw text, as GGUF/HF store control tokens); merges are
  // "left right" in rank order. Every merge's parts and result must be tokens.
  BpeStatus init_from_merges(const std::vector<std::string>& tokens, const std::vector<std::string>& merges,
                             const std::vector<BpeSpecialToken>& specials, const BpeOptions& options = {});

  // Token ids of `text` (no BOS/EOS). With parse_special, occurrences of the
  // special tokens' strings become those tokens (chat templates); otherwise they
  // are ordinary text. Never fails: invalid UTF-8 is encoded byte by byte.
  std::vector<int32_t> encode(std::string_view text, bool parse_special = false) const;
  std::vector<int32_t> encode_with_specials(std::string_view text) const { return encode(text, true); }
  // Appends to *out, to reuse one buffer.
  void encode(std::string_view text, bool parse_special, std::vector<int32_t>* out) const;

  // Bytes of the tokens, special tokens as their text. Ids outside the
  // vocabulary are skipped (check them with is_valid when that matters).
  std::string decode(const int32_t* ids, size_t n_ids) const;
  std::string decode(const std::vector<int32_t>& ids) const { return decode(ids.data(), ids.size()); }

  // Raw bytes of one token (may be part of a UTF-8 character); empty if unknown.
  std::string_view token_bytes(int32_t id) const;

  int32_t n_vocab() const { return (int32_t)offsets_.size() - 1; }  // ids are in [0, n_vocab)
  bool is_valid(int32_t id) const { return !token_bytes(id).empty(); }
  bool is_special(int32_t id) const { return id >= 0 && id < n_vocab() && is_special_[id]; }

  int32_t find_token(std::string_view bytes) const;   // ordinary token with these bytes, or -1
  int32_t find_special(std::string_view text) const;  // special token with this text, or -1
  const std::vector<BpeSpecialToken>& special_tokens() const { return specials_; }
  const BpeOptions& options() const { return options_; }

  // The merge inputs encode uses (tests compare merge strategies on them).
  const BpePairTable& pair_table() const { return pairs_; }
  const int32_t* byte_ids() const { return byte_ids_; }

 private:
  BpeStatus load_ranks(const std::vector<std::string>& ranked_bytes,
                       const std::vector<BpeSpecialToken>& specials, const BpeOptions& options);
  BpeStatus load_merges(const std::vector<std::string>& tokens, const std::vector<std::string>& merges,
                        const std::vector<BpeSpecialToken>& specials, const BpeOptions& options);
  BpeStatus build_vocab(std::vector<std::string>& vocab, const std::vector<BpeSpecialToken>& specials);
  void encode_ordinary(std::string_view text, std::vector<int32_t>* out) const;
  void encode_piece(std::string_view piece, std::vector<int32_t>* out) const;
  // Start of the next special token at or after `pos` (text.size() if none), its id and length.
  size_t next_special(std::string_view text, size_t pos, int32_t* id, size_t* len) const;

  BpeOptions options_;

  // Bytes of token id: arena_[offsets_[id], offsets_[id + 1]).
  std::vector<char> arena_;
  std::vector<uint32_t> offsets_ = {0};
  std::vector<uint8_t> is_special_;

  std::unordered_map<std::string_view, int32_t> token_by_bytes_;  // ordinary tokens, views into arena_
  int32_t byte_ids_[256] = {};
  BpePairTable pairs_;

  std::vector<BpeSpecialToken> specials_;
  std::unordered_map<std::string_view, int32_t> special_by_text_;  // views into arena_
  std::vector<size_t> special_lengths_;                            // distinct, longest first
  bool special_first_byte_[256] = {};
};

}  // namespace paddock
