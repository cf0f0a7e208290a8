#include "infer/tokenizer_spm.h"

#include <queue>

namespace paddock {

namespace {

struct Symbol {
  int prev, next;
  size_t start, len;  // bytes in the escaped text; len 0 = merged away
};

struct Bigram {
  int left, right;
  float score;
  size_t len;  // merged length when queued; stale if a side changed since
};

// Max-heap order: higher score first, then the leftmost pair.
struct BigramLess {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

size_t utf8_char_len(unsigned char c) {
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) return 2;
  if ((c & 0xF0) == 0xE0) return 3;
  if ((c & 0xF8) == 0xF0) return 4;
  return 1;  // a stray continuation or invalid byte is a symbol of its own
}

class SpmSession {
 public:
  SpmSession(const Vocab& vocab, const std::string& text) : vocab_(vocab), text_(text) {}

  void encode(std::vector<int32_t>* out) {
    for (size_t off = 0; off < text_.size();) {
      size_t len = utf8_char_len((unsigned char)text_[off]);
      if (len > text_.size() - off) len = text_.size() - off;
      const int idx = (int)symbols_.size();
      symbols_.push_back({idx - 1, -1, off, len});
      if (idx > 0) symbols_[(size_t)idx - 1].next = idx;
      off += len;
    }
    for (size_t i = 1; i < symbols_.size(); i++) try_add_bigram((int)i - 1, (int)i);

    while (!queue_.empty()) {
      Bigram b = queue_.top();
      queue_.pop();
      Symbol& l = symbols_[(size_t)b.left];
      Symbol& r = symbols_[(size_t)b.right];
      if (l.len == 0 || r.len == 0 || l.len + r.len != b.len) continue;  // outdated pair
      l.len += r.len;
      r.len = 0;
      l.next = r.next;
      if (r.next >= 0) symbols_[(size_t)r.next].prev = b.left;
      try_add_bigram(l.prev, b.left);
      try_add_bigram(b.left, l.next);
    }

    for (int i = symbols_.empty() ? -1 : 0; i >= 0; i = symbols_[(size_t)i].next) emit(symbols_[(size_t)i], out);
  }

 private:
  void try_add_bigram(int left, int right) {
    if (left < 0 || right < 0) return;
    const Symbol& l = symbols_[(size_t)left];
    const Symbol& r = symbols_[(size_t)right];
    auto it = vocab_.piece_to_id.find(text_.substr(l.start, l.len + r.len));
    if (it == vocab_.piece_to_id.end()) return;
    queue_.push({left, right, vocab_.scores[(size_t)it->second], l.len + r.len});
  }

  void emit(const Symbol& s, std::vector<int32_t>* out) const {
    auto it = vocab_.piece_to_id.find(text_.substr(s.start, s.len));
    if (it != vocab_.piece_to_id.end()) {
      out->push_back(it->second);
      return;
    }
    for (size_t j = 0; j < s.len; j++) {  // byte fallback
      const int32_t id = vocab_.byte_to_id[(unsigned char)text_[s.start + j]];
      out->push_back(id >= 0 ? id : vocab_.unk_id);
    }
  }

  const Vocab& vocab_;
  const std::string& text_;
  std::vector<Symbol> symbols_;
  std::priority_queue<Bigram, std::vector<Bigram>, BigramLess> queue_;
};

}  // namespace

std::vector<int32_t> tokenize_spm(const Vocab& vocab, const std::string& text, bool add_bos) {
  std::vector<int32_t> out;
  if (add_bos) out.push_back(vocab.bos_id);
  if (text.empty()) return out;  // no dummy prefix for empty text (llama.cpp, run.c)

  std::string escaped;
  escaped.reserve(text.size() * 3 + 3);
  if (vocab.add_space_prefix) escaped += "\xE2\x96\x81";
  for (char c : text) {
    if (c == ' ') {
      escaped += "\xE2\x96\x81";
    } else {
      escaped += c;
    }
  }
  SpmSession(vocab, escaped).encode(&out);
  return out;
}

}  // namespace paddock
