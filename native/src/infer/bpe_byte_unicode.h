// GPT-2's byte <-> unicode mapping, the form in which byte-level BPE vocabularies
// are stored in GGUF (tokenizer.ggml.model = "gpt2") and in HF tokenizer.json.
//
// Each of the 256 bytes is shown as a printable code point so that vocabularies
// can be written as text: bytes '!'..'~', U+00A1..U+00AC and U+00AE..U+00FF stand
// for themselves; the other 68 (controls, space, 0x7F..0xA0, 0xAD) map in byte
// order to U+0100, U+0101, ... (so ' ' is 'Ġ' U+0120 and '\n' is 'Ċ' U+010A).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace paddock {

// The printable code point that stands for byte b.
uint32_t gpt2_byte_to_cpt(uint8_t b);

// The byte that code point cp stands for, or -1 if cp is not one of the 256.
int gpt2_cpt_to_byte(uint32_t cp);

// Decodes a vocabulary string to raw bytes (appended to *bytes). False if it
// holds invalid UTF-8 or a character outside the mapping (*bytes is then partial).
bool gpt2_text_to_bytes(std::string_view text, std::string* bytes);

// Raw bytes to vocabulary form (for writing GGUF / tokenizer.json, and tests).
std::string gpt2_bytes_to_text(std::string_view bytes);

}  // namespace paddock
