#include "infer/unicode_utf8.h"

namespace paddock {

static inline bool is_cont(unsigned char c) { return (c & 0xC0) == 0x80; }

uint32_t utf8_decode(const char* s, size_t n, size_t* len) {
  const unsigned char* u = (const unsigned char*)s;
  const unsigned char c0 = u[0];
  *len = 1;
  if (c0 < 0x80) {
    return c0;
  }
  const uint32_t invalid = kUtf8InvalidBase + c0;
  // C0/C1 (overlong 2-byte), F5..FF (beyond U+10FFFF) and bare continuation bytes never start a sequence.
  if (c0 < 0xC2 || c0 > 0xF4) {
    return invalid;
  }
  if (c0 < 0xE0) {
    if (n < 2 || !is_cont(u[1])) {
      return invalid;
    }
    *len = 2;
    return ((uint32_t)(c0 & 0x1F) << 6) | (u[1] & 0x3F);
  }
  if (c0 < 0xF0) {
    if (n < 3 || !is_cont(u[1]) || !is_cont(u[2])) {
      return invalid;
    }
    const uint32_t cp = ((uint32_t)(c0 & 0x0F) << 12) | ((uint32_t)(u[1] & 0x3F) << 6) | (u[2] & 0x3F);
    if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)) {  // overlong or surrogate
      return invalid;
    }
    *len = 3;
    return cp;
  }
  if (n < 4 || !is_cont(u[1]) || !is_cont(u[2]) || !is_cont(u[3])) {
    return invalid;
  }
  const uint32_t cp = ((uint32_t)(c0 & 0x07) << 18) | ((uint32_t)(u[1] & 0x3F) << 12) |
                      ((uint32_t)(u[2] & 0x3F) << 6) | (u[3] & 0x3F);
  if (cp < 0x10000 || cp > 0x10FFFF) {
    return invalid;
  }
  *len = 4;
  return cp;
}

}  // namespace paddock
