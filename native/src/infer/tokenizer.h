// One face for every tokenizer the engine runs: SentencePiece BPE (Llama 1/2, tokenize_spm over a
// Vocab) and byte-level BPE (Llama 3, BpeTokenizer). The model holds one (Vocab::tokenizer), and
// standalone tokenizer files load into one (tokenizer_files.h). Immutable once built: encode and
// decode may run on many threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace paddock {

struct Vocab;
class BpeTokenizer;

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // "spm" or "bpe".
  virtual const char* kind() const = 0;
  virtual int32_t n_vocab() const = 0;
  bool valid_id(int64_t id) const { return id >= 0 && id < n_vocab(); }

  // Token ids of `text`, BOS first when add_bos. With parse_special, the texts of control tokens
  // become those tokens (chat templates); otherwise they are ordinary text.
  virtual std::vector<int32_t> encode(std::string_view text, bool add_bos, bool parse_special = false) const = 0;
  // The bytes a token prints as (may be part of a UTF-8 character); control/unknown/unused -> "".
  virtual std::string token_bytes(int32_t id) const = 0;
  // The vocabulary entry as stored (SPM piece with "▁", BPE in GPT-2 byte-to-unicode form, a
  // special token's text), for display.
  virtual std::string token_text(int32_t id) const = 0;
  // Text of the ids: their bytes concatenated, without the dummy-prefix space SPM put in front of
  // the first token, so decode(encode(s)) == s.
  virtual std::string decode(const int32_t* ids, size_t n) const;
  std::string decode(const std::vector<int32_t>& ids) const { return decode(ids.data(), ids.size()); }

  int32_t bos_id() const { return bos_id_; }
  int32_t eos_id() const { return eos_id_; }
  int32_t eot_id() const { return eot_id_; }  // -1 if none
  // End of generation: EOS, EOT (<|eot_id|>) or another end token (<|eom_id|>).
  bool is_eog(int32_t id) const;

 protected:
  int32_t bos_id_ = 1, eos_id_ = 2, eot_id_ = -1;
  std::vector<int32_t> eog_ids_;
};

// SentencePiece over a finalized Vocab (copied: the tokenizer does not point into its source).
std::shared_ptr<const Tokenizer> make_spm_tokenizer(const Vocab& vocab);

// Byte-level BPE. `pieces` are the stored forms for token_text (empty: derived from the bytes);
// eot_id -1 looks up <|eot_id|>; <|eom_id|> and <|end_of_text|> also end generation.
std::shared_ptr<const Tokenizer> make_bpe_tokenizer(std::shared_ptr<const BpeTokenizer> bpe, int32_t bos_id,
                                                    int32_t eos_id, int32_t eot_id,
                                                    std::vector<std::string> pieces = {});

}  // namespace paddock
