#include "infer/bpe_tokenizer.h"

#include "infer/bpe_byte_unicode.h"
#include "infer/pretokenize_llama3.h"

#include <algorithm>
#include <functional>

namespace paddock {

// Real vocabularies hold 32K-256K ids.
static constexpr size_t kMaxVocab = 1u << 24;

static std::string hex_byte(unsigned b) {
  static const char* digits = "0123456789ABCDEF";
  return std::string("0x") + digits[b >> 4] + digits[b & 15];
}

// ---- construction -----------------------------------------------------------

// Lays out every token's bytes (specials as their text) and the lookup tables
// shared by both ways in. Consumes vocab.
BpeStatus BpeTokenizer::build_vocab(std::vector<std::string>& vocab,
                                    const std::vector<BpeSpecialToken>& specials) {
  size_t n_vocab = vocab.size();
  for (const BpeSpecialToken& st : specials) {
    if (st.id < 0) {
      return BPE_ERROR(INVALID_ARGUMENT, "special token '" + st.text + "' has a negative id");
    }
    if (st.text.empty()) {
      return BPE_ERROR(INVALID_ARGUMENT, "special token " + std::to_string(st.id) + " has no text");
    }
    n_vocab = std::max(n_vocab, (size_t)st.id + 1);
  }
  if (n_vocab > kMaxVocab) {  // a stray huge special id must not allocate gigabytes
    return BPE_ERROR(INVALID_ARGUMENT, "vocabulary too large: " + std::to_string(n_vocab) + " ids (at most " +
                                           std::to_string(kMaxVocab) + ")");
  }
  vocab.resize(n_vocab);
  is_special_.assign(n_vocab, 0);
  for (const BpeSpecialToken& st : specials) {
    if (is_special_[st.id]) {
      return BPE_ERROR(INVALID_ARGUMENT, "special token id " + std::to_string(st.id) + " given twice");
    }
    is_special_[st.id] = 1;
    vocab[st.id] = st.text;  // callers checked that ordinary tokens do not use this id
  }

  size_t total = 0;
  for (const std::string& t : vocab) {
    total += t.size();
  }
  if (total >= UINT32_MAX) {
    return BPE_ERROR(INVALID_ARGUMENT, "vocabulary holds too many bytes: " + std::to_string(total));
  }
  arena_.clear();
  arena_.reserve(total);
  offsets_.assign(1, 0);
  offsets_.reserve(n_vocab + 1);
  for (std::string& t : vocab) {
    arena_.insert(arena_.end(), t.begin(), t.end());
    offsets_.push_back((uint32_t)arena_.size());
    std::string().swap(t);  // free as we go: the arena now owns the bytes
  }

  token_by_bytes_.clear();
  token_by_bytes_.reserve(n_vocab);
  special_by_text_.clear();
  specials_ = specials;
  std::sort(specials_.begin(), specials_.end(),
            [](const BpeSpecialToken& a, const BpeSpecialToken& b) { return a.id < b.id; });
  special_lengths_.clear();
  std::fill(std::begin(special_first_byte_), std::end(special_first_byte_), false);

  for (int32_t id = 0; id < (int32_t)n_vocab; ++id) {
    const std::string_view bytes = token_bytes(id);
    if (bytes.empty()) {
      continue;  // unused id
    }
    if (is_special_[id]) {
      if (!special_by_text_.emplace(bytes, id).second) {
        return BPE_ERROR(INVALID_ARGUMENT, "special token text '" + std::string(bytes) + "' given twice");
      }
      special_first_byte_[(unsigned char)bytes[0]] = true;
      special_lengths_.push_back(bytes.size());
    } else {
      token_by_bytes_.emplace(bytes, id);  // on duplicates the lowest id (rank) wins
    }
  }
  std::sort(special_lengths_.begin(), special_lengths_.end(), std::greater<size_t>());
  special_lengths_.erase(std::unique(special_lengths_.begin(), special_lengths_.end()),
                         special_lengths_.end());

  for (unsigned b = 0; b < 256; ++b) {
    const char c = (char)b;
    const int32_t id = find_token(std::string_view(&c, 1));
    if (id < 0) {
      return BPE_ERROR(BAD_FORMAT, "byte-level BPE vocabulary has no token for byte " + hex_byte(b));
    }
    byte_ids_[b] = id;
  }
  return BpeStatus{};
}

BpeStatus BpeTokenizer::load_ranks(const std::vector<std::string>& ranked_bytes,
                                   const std::vector<BpeSpecialToken>& specials, const BpeOptions& options) {
  options_ = options;
  for (const BpeSpecialToken& st : specials) {
    if (st.id >= 0 && (size_t)st.id < ranked_bytes.size() && !ranked_bytes[st.id].empty()) {
      return BPE_ERROR(INVALID_ARGUMENT, "special token '" + st.text + "' uses id " + std::to_string(st.id) +
                                             ", which is already an ordinary token");
    }
  }
  std::vector<std::string> bytes = ranked_bytes;
  BpeStatus st = build_vocab(bytes, specials);
  if (!st.ok()) {
    return st;
  }

  // tiktoken merges two adjacent parts whenever their concatenation is a token,
  // with that token's rank. Every split of every token into two tokens is such a
  // pair (280,147 for Llama 3: exactly HF's merges list).
  pairs_ = BpePairTable();
  pairs_.reserve(arena_.size() / 3);  // ~280K pairs for ~830K bytes of Llama 3 tokens
  for (int32_t id = 0; id < n_vocab(); ++id) {
    const std::string_view t = token_bytes(id);
    if (is_special_[id] || t.size() < 2) {
      continue;
    }
    for (size_t cut = 1; cut < t.size(); ++cut) {
      const int32_t left = find_token(t.substr(0, cut));
      if (left < 0) {
        continue;
      }
      const int32_t right = find_token(t.substr(cut));
      if (right >= 0) {
        pairs_.add(left, right, id, id);
      }
    }
  }
  return BpeStatus{};
}

BpeStatus BpeTokenizer::load_merges(const std::vector<std::string>& tokens,
                                    const std::vector<std::string>& merges,
                                    const std::vector<BpeSpecialToken>& specials, const BpeOptions& options) {
  options_ = options;
  std::vector<uint8_t> special_id(tokens.size(), 0);
  for (const BpeSpecialToken& st : specials) {
    if (st.id >= 0 && (size_t)st.id < tokens.size()) {
      special_id[st.id] = 1;
    }
  }
  std::vector<std::string> bytes(tokens.size());
  for (size_t id = 0; id < tokens.size(); ++id) {
    if (special_id[id]) {
      continue;  // build_vocab stores the special's raw text
    }
    if (!gpt2_text_to_bytes(tokens[id], &bytes[id])) {
      return BPE_ERROR(BAD_FORMAT, "token " + std::to_string(id) + " '" + tokens[id] +
                                       "' is not in GPT-2 byte-to-unicode form (not a byte-level BPE "
                                       "vocabulary, or a special token that was not declared as one)");
    }
  }
  BpeStatus st = build_vocab(bytes, specials);
  if (!st.ok()) {
    return st;
  }

  pairs_ = BpePairTable();
  pairs_.reserve(merges.size());
  std::string left, right;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const std::string& m = merges[rank];
    const size_t cut = m.find(' ');
    if (cut == std::string::npos || m.find(' ', cut + 1) != std::string::npos) {
      return BPE_ERROR(BAD_FORMAT, "merge " + std::to_string(rank) + " '" + m + "': expected \"left right\"");
    }
    left.clear();
    right.clear();
    if (!gpt2_text_to_bytes(std::string_view(m).substr(0, cut), &left) ||
        !gpt2_text_to_bytes(std::string_view(m).substr(cut + 1), &right)) {
      return BPE_ERROR(BAD_FORMAT,
                       "merge " + std::to_string(rank) + " '" + m + "' is not in GPT-2 byte-to-unicode form");
    }
    const int32_t l = find_token(left);
    const int32_t r = find_token(right);
    const int32_t t = find_token(left + right);
    if (l < 0 || r < 0 || t < 0 || left.empty() || right.empty()) {
      return BPE_ERROR(BAD_FORMAT, "merge " + std::to_string(rank) + " '" + m +
                                       "' uses or makes a token that is not in the vocabulary");
    }
    pairs_.add(l, r, (int32_t)rank, t);
  }
  return BpeStatus{};
}

// Both ways in build a fresh tokenizer, so a failed init leaves *this as it was.
BpeStatus BpeTokenizer::init_from_ranks(const std::vector<std::string>& ranked_bytes,
                                        const std::vector<BpeSpecialToken>& specials,
                                        const BpeOptions& options) {
  BpeTokenizer fresh;
  BpeStatus st = fresh.load_ranks(ranked_bytes, specials, options);
  if (st.ok()) *this = std::move(fresh);
  return st;
}

BpeStatus BpeTokenizer::init_from_merges(const std::vector<std::string>& tokens,
                                         const std::vector<std::string>& merges,
                                         const std::vector<BpeSpecialToken>& specials,
                                         const BpeOptions& options) {
  BpeTokenizer fresh;
  BpeStatus st = fresh.load_merges(tokens, merges, specials, options);
  if (st.ok()) *this = std::move(fresh);
  return st;
}

// ---- lookups ------------------------------------------------------------------

std::string_view BpeTokenizer::token_bytes(int32_t id) const {
  if (id < 0 || id >= n_vocab()) {
    return {};
  }
  return std::string_view(arena_.data() + offsets_[id], offsets_[id + 1] - offsets_[id]);
}

int32_t BpeTokenizer::find_token(std::string_view bytes) const {
  const auto it = token_by_bytes_.find(bytes);
  return it == token_by_bytes_.end() ? -1 : it->second;
}

int32_t BpeTokenizer::find_special(std::string_view text) const {
  const auto it = special_by_text_.find(text);
  return it == special_by_text_.end() ? -1 : it->second;
}

// ---- encode -------------------------------------------------------------------

void BpeTokenizer::encode_piece(std::string_view piece, std::vector<int32_t>* out) const {
  if (piece.size() == 1) {
    out->push_back(byte_ids_[(unsigned char)piece[0]]);
    return;
  }
  if (options_.whole_piece_lookup) {
    const int32_t id = find_token(piece);
    if (id >= 0) {
      out->push_back(id);
      return;
    }
  }
  bpe_merge(pairs_, byte_ids_, piece, out);
}

void BpeTokenizer::encode_ordinary(std::string_view text, std::vector<int32_t>* out) const {
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t end = pretokenize_llama3_next(text, pos);
    encode_piece(text.substr(pos, end - pos), out);
    pos = end;
  }
}

// Leftmost match; at one position the longest special wins. Lengths are few
// (Llama 3: 13), so each candidate position costs a handful of hash lookups.
size_t BpeTokenizer::next_special(std::string_view text, size_t pos, int32_t* id, size_t* len) const {
  for (; pos < text.size(); ++pos) {
    if (!special_first_byte_[(unsigned char)text[pos]]) {
      continue;
    }
    for (size_t n : special_lengths_) {
      if (n > text.size() - pos) {
        continue;
      }
      const int32_t sid = find_special(text.substr(pos, n));
      if (sid >= 0) {
        *id = sid;
        *len = n;
        return pos;
      }
    }
  }
  return text.size();
}

void BpeTokenizer::encode(std::string_view text, bool parse_special, std::vector<int32_t>* out) const {
  if (!parse_special || special_lengths_.empty()) {
    encode_ordinary(text, out);
    return;
  }
  // Text between specials is pre-split on its own, as tiktoken and llama.cpp do.
  size_t pos = 0;
  while (pos < text.size()) {
    int32_t id = -1;
    size_t len = 0;
    const size_t start = next_special(text, pos, &id, &len);
    encode_ordinary(text.substr(pos, start - pos), out);
    if (start == text.size()) {
      break;
    }
    out->push_back(id);
    pos = start + len;
  }
}

std::vector<int32_t> BpeTokenizer::encode(std::string_view text, bool parse_special) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);  // ~4 bytes per token on English text
  encode(text, parse_special, &out);
  return out;
}

// ---- decode -------------------------------------------------------------------

std::string BpeTokenizer::decode(const int32_t* ids, size_t n_ids) const {
  std::string out;
  for (size_t i = 0; i < n_ids; ++i) {
    const std::string_view t = token_bytes(ids[i]);
    out.append(t.data(), t.size());
  }
  return out;
}

}  // namespace paddock
