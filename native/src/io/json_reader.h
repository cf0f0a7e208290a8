// A small JSON reader for the files that come with models: HF tokenizer.json, config.json,
// tokenizer_config.json, generation_config.json, model.safetensors.index.json and the JSON
// header of a .safetensors file. A whole document becomes a tree of Json values; objects keep
// their members in file order (lookups are linear, the files are small or iterated in order).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace paddock {

struct Json {
  enum Kind { Null, Bool, Num, Str, Arr, Obj } kind = Null;
  bool b = false;
  double n = 0;
  std::string s;
  std::vector<Json> a;
  std::vector<std::pair<std::string, Json>> o;

  // The member `key` of an object (the last one when repeated), nullptr when absent or when this
  // is not an object.
  const Json* get(const char* key) const;
  // The member's string value, `def` when absent or not a string.
  std::string str(const char* key, const std::string& def = "") const;
  // The member's numeric value, `def` when absent or not a number.
  double num(const char* key, double def) const;
  // The member's boolean value, `def` when absent or not a boolean.
  bool boolean(const char* key, bool def) const;
  // A number that is a whole value in [0, 2^53] (sizes, offsets, ids).
  bool is_count() const;
};

// Parses a whole document. False for malformed JSON (trailing bytes included), with the byte
// offset where reading stopped in *error_pos. Nesting is limited (64 levels) so hostile input
// cannot exhaust the stack.
bool parse_json(std::string_view text, Json* out, size_t* error_pos = nullptr);

}  // namespace paddock
