#include "infer/tokenizer.h"

#include <algorithm>

#include "infer/bpe_byte_unicode.h"
#include "infer/bpe_tokenizer.h"
#include "infer/tokenizer_spm.h"
#include "infer/vocab.h"

namespace paddock {

bool Tokenizer::is_eog(int32_t id) const {
  return id >= 0 && (id == eos_id_ || id == eot_id_ || std::find(eog_ids_.begin(), eog_ids_.end(), id) != eog_ids_.end());
}

std::string Tokenizer::decode(const int32_t* ids, size_t n) const {
  std::string out;
  for (size_t i = 0; i < n; i++) out += token_bytes(ids[i]);
  return out;
}

namespace {

class SpmTokenizer final : public Tokenizer {
 public:
  explicit SpmTokenizer(const Vocab& v) : vocab_(v) {
    vocab_.tokenizer.reset();
    for (size_t i = 0; i < v.pieces.size(); i++) {
      if ((v.types[i] == kTokenControl || v.types[i] == kTokenUserDefined) && !v.pieces[i].empty()) {
        special_ids_.push_back((int32_t)i);
      }
    }
    bos_id_ = v.bos_id;
    eos_id_ = v.eos_id;
    eot_id_ = v.eot_id;
    for (const char* name : {"<|eot_id|>", "<|im_end|>"}) {
      auto it = std::find(v.pieces.begin(), v.pieces.end(), std::string(name));
      if (it != v.pieces.end()) eog_ids_.push_back((int32_t)(it - v.pieces.begin()));
    }
  }
  const char* kind() const override { return "spm"; }
  int32_t n_vocab() const override { return (int32_t)vocab_.size(); }

  std::vector<int32_t> encode(std::string_view text, bool add_bos, bool parse_special) const override {
    if (!parse_special) return tokenize_spm(vocab_, std::string(text), add_bos);
    // Control-token texts become those tokens; each run of text between them is encoded as usual,
    // with its own dummy prefix (llama.cpp prefixes a fragment at the start or after a special).
    std::vector<int32_t> out;
    if (add_bos) out.push_back(vocab_.bos_id);
    size_t pos = 0;
    while (pos <= text.size()) {
      size_t best = text.size(), best_len = 0;
      int32_t best_id = -1;
      for (int32_t i : special_ids_) {
        const std::string& p = vocab_.pieces[(size_t)i];
        if (p.empty()) continue;
        size_t at = text.find(p, pos);
        if (at != std::string_view::npos && (at < best || (at == best && p.size() > best_len))) {
          best = at, best_len = p.size(), best_id = i;
        }
      }
      if (best > pos) {
        std::vector<int32_t> part = tokenize_spm(vocab_, std::string(text.substr(pos, best - pos)), false);
        out.insert(out.end(), part.begin(), part.end());
      }
      if (best_id < 0) break;
      out.push_back(best_id);
      pos = best + best_len;
    }
    return out;
  }

  std::string token_bytes(int32_t id) const override { return vocab_.token_bytes(id); }
  std::string token_text(int32_t id) const override {
    return valid_id(id) ? vocab_.pieces[(size_t)id] : std::string();
  }
  std::string decode(const int32_t* ids, size_t n) const override {
    std::string out;
    bool strip = vocab_.add_space_prefix;
    for (size_t i = 0; i < n; i++) {
      std::string b = token_bytes(ids[i]);
      if (b.empty()) continue;
      if (strip && b[0] == ' ') b.erase(0, 1);
      strip = false;
      out += b;
    }
    return out;
  }

 private:
  Vocab vocab_;
  std::vector<int32_t> special_ids_;  // control and user-defined pieces, matched with parse_special
};

class BpeAdapter final : public Tokenizer {
 public:
  BpeAdapter(std::shared_ptr<const BpeTokenizer> bpe, int32_t bos, int32_t eos, int32_t eot,
             std::vector<std::string> pieces)
      : bpe_(std::move(bpe)), pieces_(std::move(pieces)) {
    bos_id_ = bos;
    eos_id_ = eos;
    eot_id_ = eot >= 0 ? eot : bpe_->find_special("<|eot_id|>");
    for (const char* name : {"<|eom_id|>", "<|end_of_text|>", "<|eot_id|>"}) {
      int32_t id = bpe_->find_special(name);
      if (id >= 0) eog_ids_.push_back(id);
    }
  }
  const char* kind() const override { return "bpe"; }
  int32_t n_vocab() const override { return bpe_->n_vocab(); }

  std::vector<int32_t> encode(std::string_view text, bool add_bos, bool parse_special) const override {
    std::vector<int32_t> out;
    if (add_bos && bos_id_ >= 0) out.push_back(bos_id_);
    bpe_->encode(text, parse_special, &out);
    return out;
  }
  std::string token_bytes(int32_t id) const override {
    if (!valid_id(id) || bpe_->is_special(id)) return std::string();
    return std::string(bpe_->token_bytes(id));
  }
  std::string token_text(int32_t id) const override {
    if (!valid_id(id)) return std::string();
    if ((size_t)id < pieces_.size()) return pieces_[(size_t)id];
    std::string_view b = bpe_->token_bytes(id);
    return bpe_->is_special(id) ? std::string(b) : gpt2_bytes_to_text(b);
  }

 private:
  std::shared_ptr<const BpeTokenizer> bpe_;
  std::vector<std::string> pieces_;
};

}  // namespace

std::shared_ptr<const Tokenizer> make_spm_tokenizer(const Vocab& vocab) { return std::make_shared<SpmTokenizer>(vocab); }

std::shared_ptr<const Tokenizer> make_bpe_tokenizer(std::shared_ptr<const BpeTokenizer> bpe, int32_t bos_id,
                                                    int32_t eos_id, int32_t eot_id, std::vector<std::string> pieces) {
  return std::make_shared<BpeAdapter>(std::move(bpe), bos_id, eos_id, eot_id, std::move(pieces));
}

}  // namespace paddock
