#include "infer/bpe_tiktoken_file.h"

#include <cstdio>

namespace paddock {

// Standard base64 (RFC 4648, '+' '/', '=' padding), as tiktoken writes it.
static bool base64_decode(std::string_view in, std::string* out) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  while (!in.empty() && in.back() == '=') {
    in.remove_suffix(1);
  }
  if (in.size() % 4 == 1) {
    return false;
  }
  out->clear();
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const int v = value(c);
    if (v < 0) {
      return false;
    }
    acc = (acc << 6) | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back((char)((acc >> bits) & 0xFF));
    }
  }
  return true;
}

// Ranks index a dense table: refuse a stray huge one instead of allocating for it.
static constexpr uint64_t kMaxRank = (1u << 24) - 1;

BpeStatus bpe_parse_tiktoken(std::string_view data, const std::string& name,
                             std::vector<std::string>* ranked_bytes) {
  ranked_bytes->clear();
  std::string bytes;
  size_t line_no = 0;
  size_t n_ranks = 0;
  while (!data.empty()) {
    ++line_no;
    size_t eol = data.find('\n');
    std::string_view line = data.substr(0, eol);
    data.remove_prefix(eol == std::string_view::npos ? data.size() : eol + 1);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.empty()) {
      continue;
    }
    const std::string where = name + ":" + std::to_string(line_no) + ": ";
    const size_t space = line.find(' ');
    if (space == std::string_view::npos || space == 0) {
      return BPE_ERROR(BAD_FORMAT,
                       where + "expected \"base64 rank\", found '" + std::string(line.substr(0, 60)) + "'");
    }
    if (!base64_decode(line.substr(0, space), &bytes) || bytes.empty()) {
      return BPE_ERROR(BAD_FORMAT, where + "invalid base64 '" + std::string(line.substr(0, space)) + "'");
    }
    const std::string_view digits = line.substr(space + 1);
    uint64_t rank = 0;
    if (digits.empty() || digits.size() > 8) {
      return BPE_ERROR(BAD_FORMAT, where + "expected a decimal rank, found '" + std::string(digits) + "'");
    }
    for (char c : digits) {
      if (c < '0' || c > '9') {
        return BPE_ERROR(BAD_FORMAT, where + "expected a decimal rank, found '" + std::string(digits) + "'");
      }
      rank = rank * 10 + (uint64_t)(c - '0');
    }
    if (rank > kMaxRank) {
      return BPE_ERROR(BAD_FORMAT,
                       where + "rank " + std::to_string(rank) + " is above " + std::to_string(kMaxRank));
    }
    if (rank >= ranked_bytes->size()) {
      ranked_bytes->resize(rank + 1);
    }
    if (!(*ranked_bytes)[rank].empty()) {
      return BPE_ERROR(BAD_FORMAT, where + "rank " + std::to_string(rank) + " appears twice");
    }
    (*ranked_bytes)[rank] = bytes;
    ++n_ranks;
  }
  if (n_ranks == 0) {
    return BPE_ERROR(BAD_FORMAT, name + ": no tokens (expected lines of \"base64 rank\")");
  }
  return BpeStatus{};
}

std::vector<BpeSpecialToken> bpe_llama3_special_tokens(int32_t n_base) {
  static const char* const named[] = {
      "<|begin_of_text|>",
      "<|end_of_text|>",
      "<|reserved_special_token_0|>",
      "<|reserved_special_token_1|>",
      "<|reserved_special_token_2|>",
      "<|reserved_special_token_3|>",
      "<|start_header_id|>",
      "<|end_header_id|>",
      "<|reserved_special_token_4|>",
      "<|eot_id|>",
  };
  const int32_t n_named = (int32_t)(sizeof(named) / sizeof(named[0]));
  std::vector<BpeSpecialToken> out;
  for (int32_t i = 0; i < 256; ++i) {
    std::string text = i < n_named ? std::string(named[i])
                                   : "<|reserved_special_token_" + std::to_string(i - n_named + 5) + "|>";
    out.push_back(BpeSpecialToken{n_base + i, std::move(text)});
  }
  return out;
}

static BpeStatus read_whole_file(const std::string& path, std::string* out) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    return BPE_ERROR(IO_ERROR, path + ": cannot open");
  }
  out->clear();
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) {
    out->append(buf, n);
  }
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) {
    return BPE_ERROR(IO_ERROR, path + ": read error");
  }
  return BpeStatus{};
}

BpeStatus bpe_load_tiktoken_file(const std::string& path, BpeTokenizer* tok, const BpeOptions& options) {
  std::string data;
  BpeStatus st = read_whole_file(path, &data);
  if (!st.ok()) {
    return st;
  }
  std::vector<std::string> ranked;
  st = bpe_parse_tiktoken(data, path, &ranked);
  if (!st.ok()) {
    return st;
  }
  st = tok->init_from_ranks(ranked, bpe_llama3_special_tokens((int32_t)ranked.size()), options);
  if (!st.ok()) {
    st.message = path + ": " + st.message;
  }
  return st;
}

}  // namespace paddock
