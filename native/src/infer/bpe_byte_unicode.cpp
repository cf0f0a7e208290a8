#include "infer/bpe_byte_unicode.h"

#include "infer/unicode_utf8.h"

namespace paddock {

// Bytes that GPT-2 keeps as their own code point (printable Latin-1).
static bool is_kept(uint32_t b) {
  return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

namespace {

struct Tables {
  uint16_t byte_to_cpt[256];
  int16_t cpt_to_byte[0x144];  // every mapped code point is below 0x100 + 68

  Tables() {
    for (int16_t& b : cpt_to_byte) {
      b = -1;
    }
    uint16_t next = 0x100;
    for (uint32_t b = 0; b < 256; ++b) {
      const uint16_t cp = is_kept(b) ? (uint16_t)b : next++;
      byte_to_cpt[b] = cp;
      cpt_to_byte[cp] = (int16_t)b;
    }
  }
};

const Tables& tables() {
  static const Tables t;  // built once, thread-safe since C++11
  return t;
}

void append_utf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back((char)cp);
  } else {  // every mapped code point is below U+0800: two bytes
    out->push_back((char)(0xC0 | (cp >> 6)));
    out->push_back((char)(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

uint32_t gpt2_byte_to_cpt(uint8_t b) { return tables().byte_to_cpt[b]; }

int gpt2_cpt_to_byte(uint32_t cp) {
  return cp < sizeof(Tables::cpt_to_byte) / sizeof(int16_t) ? tables().cpt_to_byte[cp] : -1;
}

bool gpt2_text_to_bytes(std::string_view text, std::string* bytes) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t len = 1;
    const uint32_t cp = utf8_next(text.data() + pos, text.size() - pos, &len);
    const int b = gpt2_cpt_to_byte(cp);  // invalid UTF-8 gives cp >= 0x110000: -1
    if (b < 0) {
      return false;
    }
    bytes->push_back((char)b);
    pos += len;
  }
  return true;
}

std::string gpt2_bytes_to_text(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    append_utf8(gpt2_byte_to_cpt(b), &out);
  }
  return out;
}

}  // namespace paddock
