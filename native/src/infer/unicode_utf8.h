// Lenient UTF-8 decoding for tokenizers.
//
// Text handed to a tokenizer may hold invalid UTF-8 (a truncated stream, binary
// data). Like llama.cpp we never fail on it: each byte that does not start a valid
// sequence becomes a code point of its own, outside Unicode's range, so it has no
// category (no letter, number or space) and its original byte is kept.
#pragma once

#include <cstddef>
#include <cstdint>

namespace paddock {

// An invalid byte b decodes to kUtf8InvalidBase + b (never a real code point).
constexpr uint32_t kUtf8InvalidBase = 0x110000;

inline bool utf8_is_invalid_byte_cpt(uint32_t cp) { return cp >= kUtf8InvalidBase; }

// Decodes the code point at s[0..n) (n >= 1) and stores its byte length (1..4)
// in *len. Overlong forms, surrogates, values above U+10FFFF and truncated
// sequences are invalid: then only the first byte is consumed.
uint32_t utf8_decode(const char* s, size_t n, size_t* len);

// Fast path for ASCII, which is most text.
inline uint32_t utf8_next(const char* s, size_t n, size_t* len) {
  const unsigned char c = (unsigned char)s[0];
  if (c < 0x80) {
    *len = 1;
    return c;
  }
  return utf8_decode(s, n, len);
}

}  // namespace paddock
