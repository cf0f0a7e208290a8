#include "infer/pretokenize_llama3.h"

#include "infer/unicode_categories.h"
#include "infer/unicode_utf8.h"

namespace paddock {

namespace {

// One decoded character: its code point, category flags and where it ends.
struct Cpt {
  bool ok;  // false past the end of the text
  uint32_t cp;
  uint8_t flags;
  size_t end;
};

struct Scanner {
  const char* s;
  size_t n;

  Cpt at(size_t pos) const {
    if (pos >= n) {
      return {false, 0, 0, pos};
    }
    size_t len = 1;
    const uint32_t cp = utf8_next(s + pos, n - pos, &len);
    return {true, cp, unicode_cpt_flags(cp), pos + len};
  }
};

inline bool is_letter(const Cpt& c) { return c.flags & UNICODE_LETTER; }
inline bool is_number(const Cpt& c) { return c.flags & UNICODE_NUMBER; }
inline bool is_space(const Cpt& c) { return c.flags & UNICODE_WHITESPACE; }
inline bool is_crlf(const Cpt& c) { return c.ok && (c.cp == '\r' || c.cp == '\n'); }

// [^\s\p{L}\p{N}]: punctuation, symbols, marks, controls, invalid bytes ...
inline bool is_other(const Cpt& c) {
  return c.ok && !(c.flags & (UNICODE_LETTER | UNICODE_NUMBER | UNICODE_WHITESPACE));
}

// Simple case folding as (?i) applies it to the contraction letters: ASCII case,
// plus U+017F LATIN SMALL LETTER LONG S, which folds to 's' in Rust's regex too.
inline uint32_t fold_case(const Cpt& c) {
  if (!c.ok) {
    return 0;
  }
  if (c.cp >= 'A' && c.cp <= 'Z') {
    return c.cp + ('a' - 'A');
  }
  return c.cp == 0x017F ? 's' : c.cp;
}

}  // namespace

size_t pretokenize_llama3_next(std::string_view text, size_t pos) {
  const Scanner sc{text.data(), text.size()};
  const Cpt c0 = sc.at(pos);
  if (!c0.ok) {
    return text.size();
  }

  // (?i:'s|'t|'re|'ve|'m|'ll|'d)
  if (c0.cp == '\'') {
    const Cpt c1 = sc.at(c0.end);
    const uint32_t a = fold_case(c1);
    if (a == 's' || a == 't' || a == 'm' || a == 'd') {
      return c1.end;
    }
    const Cpt c2 = sc.at(c1.end);
    const uint32_t b = fold_case(c2);
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) {
      return c2.end;
    }
  }

  // [^\r\n\p{L}\p{N}]?\p{L}+ : a word, with at most one leading space or symbol
  {
    Cpt first = c0;
    if (!is_letter(c0) && !is_number(c0) && !is_crlf(c0)) {
      first = sc.at(c0.end);  // c0 can only be the optional prefix
    }
    if (is_letter(first)) {
      size_t end = first.end;
      for (Cpt c = sc.at(end); is_letter(c); c = sc.at(end)) {
        end = c.end;
      }
      return end;
    }
  }

  // \p{N}{1,3} : numbers in groups of at most three digits
  if (is_number(c0)) {
    size_t end = c0.end;
    for (int k = 1; k < 3; ++k) {
      const Cpt c = sc.at(end);
      if (!is_number(c)) {
        break;
      }
      end = c.end;
    }
    return end;
  }

  // " ?[^\s\p{L}\p{N}]+[\r\n]*" : punctuation runs, with their trailing newlines
  {
    const Cpt first = c0.cp == ' ' ? sc.at(c0.end) : c0;
    if (is_other(first)) {
      size_t end = first.end;
      for (Cpt c = sc.at(end); is_other(c); c = sc.at(end)) {
        end = c.end;
      }
      for (Cpt c = sc.at(end); is_crlf(c); c = sc.at(end)) {
        end = c.end;
      }
      return end;
    }
  }

  // The three whitespace alternatives all start from the maximal run of \s.
  if (is_space(c0)) {
    size_t end = c0.end;
    size_t last_start = pos;                     // start of the run's last character
    size_t crlf_end = is_crlf(c0) ? c0.end : 0;  // end of the run's last \r or \n
    for (Cpt c = sc.at(end); is_space(c); c = sc.at(end)) {
      last_start = end;
      if (is_crlf(c)) {
        crlf_end = c.end;
      }
      end = c.end;
    }
    // \s*[\r\n]+ : backtracking stops at the last newline of the run
    if (crlf_end != 0) {
      return crlf_end;
    }
    // \s+(?!\S) : all of it at the end of the text, else all but the last
    // character, which then prefixes the next word (" world")
    if (end == text.size()) {
      return end;
    }
    if (last_start > pos) {
      return last_start;
    }
    // \s+
    return end;
  }

  // Unreachable: every character is a letter, a number, \s or "other".
  return c0.end;
}

std::vector<std::string_view> pretokenize_llama3(std::string_view text) {
  std::vector<std::string_view> pieces;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t end = pretokenize_llama3_next(text, pos);
    pieces.push_back(text.substr(pos, end - pos));
    pos = end;
  }
  return pieces;
}

}  // namespace paddock
