// Llama 3 byte-level BPE tokenizer: llama.cpp's test vectors, round trips,
// special tokens, invalid UTF-8, the GGUF/HF (merges) way in, and throughput.
//
// usage: test_bpe_tokenizer <testdata dir>   (shared/testdata: tokenizers/llama3/...)
// Exits 0 with a skip notice when the data files are absent.

#include "infer/bpe_byte_unicode.h"
#include "infer/bpe_merge.h"
#include "infer/bpe_tiktoken_file.h"
#include "infer/bpe_tokenizer.h"
#include "infer/pretokenize_llama3.h"
#include "io/mapped_file.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace paddock;

static int g_passed = 0;
static int g_failed = 0;

#define CHECK(cond, ...)                                          \
  do {                                                            \
    if (cond) {                                                   \
      ++g_passed;                                                 \
    } else {                                                      \
      ++g_failed;                                                 \
      std::printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
      std::printf(__VA_ARGS__);                                   \
      std::printf("\n");                                          \
    }                                                             \
  } while (0)

static std::string ids_str(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) {
    s += (s.empty() ? "" : " ") + std::to_string(id);
  }
  return s;
}

static std::string escaped(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else {
      out += (char)c;
    }
  }
  return out;
}

// .inp: cases separated by "\n__ggml_vocab_test__\n", with one after the last case.
static std::vector<std::string> split_cases(const std::string& inp) {
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> cases;
  size_t pos = 0;
  for (size_t next; (next = inp.find(sep, pos)) != std::string::npos; pos = next + sep.size()) {
    cases.push_back(inp.substr(pos, next - pos));
  }
  return cases;  // text after the last separator (nothing) is not a case
}

static std::vector<std::vector<int32_t>> parse_out(const std::string& out) {
  std::vector<std::vector<int32_t>> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    std::vector<int32_t> ids;
    for (long id; ls >> id;) {
      ids.push_back((int32_t)id);
    }
    lines.push_back(ids);
  }
  return lines;
}

static void test_vectors(const BpeTokenizer& tok, const std::vector<std::string>& cases,
                         const std::vector<std::vector<int32_t>>& expected, const char* label) {
  int matched = 0;
  for (size_t i = 0; i < cases.size() && i < expected.size(); ++i) {
    const std::vector<int32_t> got = tok.encode(cases[i]);
    matched += got == expected[i];
    CHECK(got == expected[i], "%s case %zu '%s'\n  expected %s\n  got      %s", label, i,
          escaped(cases[i]).c_str(), ids_str(expected[i]).c_str(), ids_str(got).c_str());
    CHECK(tok.decode(got) == cases[i], "%s case %zu: decode(encode(s)) != s", label, i);
  }
  std::printf("%s: %d/%zu llama.cpp vectors match\n", label, matched, cases.size());
}

static void test_special_tokens(const BpeTokenizer& tok) {
  CHECK(tok.n_vocab() == 128256, "n_vocab %d", tok.n_vocab());
  CHECK(tok.find_special("<|begin_of_text|>") == 128000, "bos");
  CHECK(tok.find_special("<|end_of_text|>") == 128001, "eos");
  CHECK(tok.find_special("<|reserved_special_token_3|>") == 128005, "reserved 3");
  CHECK(tok.find_special("<|start_header_id|>") == 128006, "start_header_id");
  CHECK(tok.find_special("<|end_header_id|>") == 128007, "end_header_id");
  CHECK(tok.find_special("<|reserved_special_token_4|>") == 128008, "reserved 4");
  CHECK(tok.find_special("<|eot_id|>") == 128009, "eot_id");
  CHECK(tok.find_special("<|reserved_special_token_5|>") == 128010, "reserved 5");
  CHECK(tok.find_special("<|reserved_special_token_250|>") == 128255, "reserved 250");
  CHECK(tok.is_special(128000) && !tok.is_special(127999), "is_special");

  // A Llama 3 chat turn, as Meta's ChatFormat builds it.
  const std::string chat =
      "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHello world<|eot_id|>";
  std::vector<int32_t> want = {128000, 128006, 882, 128007, 271, 9906, 1917, 128009};
  CHECK(tok.encode_with_specials(chat) == want, "chat turn: got %s",
        ids_str(tok.encode_with_specials(chat)).c_str());
  CHECK(tok.decode(want) == chat, "decode of a chat turn");

  // Without parse_special the markers are plain text.
  const std::vector<int32_t> plain = tok.encode(chat);
  CHECK(std::none_of(plain.begin(), plain.end(), [&](int32_t id) { return tok.is_special(id); }),
        "specials produced without parse_special");
  CHECK(tok.decode(plain) == chat, "plain round trip");

  // Adjacent, at the ends, partial markers, text right after a marker.
  const std::string edge = "<|eot_id|><|eot_id|>a<|eot_id|<|eot_id|>";
  const std::vector<int32_t> e = tok.encode_with_specials(edge);
  CHECK(e.size() >= 4 && e[0] == 128009 && e[1] == 128009 && e.back() == 128009, "edges: %s",
        ids_str(e).c_str());
  CHECK(tok.decode(e) == edge, "edges round trip");
  CHECK(tok.encode_with_specials("<|").size() == tok.encode("<|").size(), "lone <|");
  CHECK(tok.encode_with_specials("").empty(), "empty");
}

static void test_invalid_utf8(const BpeTokenizer& tok) {
  const std::string inputs[] = {
      std::string("\xff\xfe\x80 abc \xc3", 9),         // stray bytes, truncated 2-byte sequence at the end
      std::string("\xe2\x82 x\xed\xa0\x80y", 9),       // truncated 3-byte, UTF-16 surrogate
      std::string("\xc0\xaf\xf8\x88\x80\x80\x80", 7),  // overlong, 5-byte form
      std::string("\xf4\x90\x80\x80\xf0\x9f\xa6", 7),  // above U+10FFFF, truncated emoji
      std::string("a\0b\n\0", 5),                      // NULs are ordinary characters
  };
  for (const std::string& s : inputs) {
    const std::vector<int32_t> ids = tok.encode(s);
    CHECK(tok.decode(ids) == s, "invalid UTF-8 round trip '%s'", escaped(s).c_str());
    std::string joined;
    for (std::string_view p : pretokenize_llama3(s)) {
      joined += p;
    }
    CHECK(joined == s, "pieces cover the input '%s'", escaped(s).c_str());
  }
  // Random bytes: no crash, exact round trip.
  std::mt19937 rng(42);
  int bad = 0;
  for (int t = 0; t < 2000; ++t) {
    std::string s(rng() % 64, '\0');
    for (char& c : s) {
      c = (char)(rng() & 0xff);
    }
    bad += tok.decode(tok.encode(s, t % 2 == 0)) != s;
  }
  CHECK(bad == 0, "%d random byte strings did not round-trip", bad);
}

// The scan (short pieces) and the heap (long pieces) must give the same tokens.
static void test_merge_strategies(const BpeTokenizer& tok, const std::vector<std::string>& texts) {
  std::vector<std::string> pieces;
  for (const std::string& t : texts) {
    for (std::string_view p : pretokenize_llama3(t)) {
      pieces.emplace_back(p);
    }
  }
  std::mt19937 rng(7);
  const char alphabet[] = "aabbeeinorstt  \n.,'0123456789\xc3\xa9\xe6\x97\xa5";
  for (int t = 0; t < 3000; ++t) {  // random pieces up to 300 bytes, past the scan's stack buffer
    std::string s(1 + rng() % 300, ' ');
    for (char& c : s) {
      c = (t % 3 == 0) ? (char)(rng() & 0xff) : alphabet[rng() % (sizeof(alphabet) - 1)];
    }
    pieces.push_back(s);
  }
  int n_diff = 0;
  for (const std::string& p : pieces) {
    std::vector<int32_t> a, b;
    bpe_merge_scan(tok.pair_table(), tok.byte_ids(), p, &a);
    bpe_merge_heap(tok.pair_table(), tok.byte_ids(), p, &b);
    if (a != b && ++n_diff <= 3) {
      std::printf("  scan %s\n  heap %s\n  for '%s'\n", ids_str(a).c_str(), ids_str(b).c_str(),
                  escaped(p).c_str());
    }
    if (tok.decode(a) != p) {
      ++n_diff;
    }
  }
  CHECK(n_diff == 0, "scan and heap merges differ on %d of %zu pieces", n_diff, pieces.size());
}

// The GGUF / tokenizer.json way in: the same vocabulary in GPT-2 byte-to-unicode
// form with a merges list (built here as HF's converter does: every split of every
// token into two tokens, in the order of the merged token's rank).
static void test_from_merges(const BpeTokenizer& tok, const std::vector<std::string>& cases,
                             const std::vector<std::vector<int32_t>>& expected) {
  std::vector<std::string> tokens(tok.n_vocab());
  std::vector<BpeSpecialToken> specials = tok.special_tokens();
  std::vector<std::string> merges;
  for (int32_t id = 0; id < tok.n_vocab(); ++id) {
    const std::string_view t = tok.token_bytes(id);
    if (tok.is_special(id)) {
      tokens[id] = std::string(t);
      continue;
    }
    tokens[id] = gpt2_bytes_to_text(t);
    std::vector<std::pair<int32_t, int32_t>> splits;
    for (size_t cut = 1; cut < t.size(); ++cut) {
      const int32_t l = tok.find_token(t.substr(0, cut));
      const int32_t r = tok.find_token(t.substr(cut));
      if (l >= 0 && r >= 0) {
        splits.emplace_back(l, r);
      }
    }
    std::sort(splits.begin(), splits.end());
    for (const auto& lr : splits) {
      merges.push_back(gpt2_bytes_to_text(tok.token_bytes(lr.first)) + " " +
                       gpt2_bytes_to_text(tok.token_bytes(lr.second)));
    }
  }
  CHECK(merges.size() == 280147, "%zu merges (HF's Llama 3 tokenizer.json has 280147)", merges.size());
  CHECK(tokens[220] == "\xc4\xa0" && tokens[198] == "\xc4\x8a", "GPT-2 forms of ' ' and '\\n'");

  BpeTokenizer hf;
  const BpeStatus st = hf.init_from_merges(tokens, merges, specials);
  CHECK(st.ok(), "init_from_merges: %s", st.message.c_str());
  if (!st.ok()) {
    return;
  }
  CHECK(hf.n_vocab() == tok.n_vocab(), "n_vocab %d", hf.n_vocab());
  test_vectors(hf, cases, expected, "merges");
  const std::string chat = "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>";
  CHECK(hf.encode_with_specials(chat) == tok.encode_with_specials(chat), "specials via merges");
}

// Merge order is by rank, whole-piece lookup is optional, bad inputs are errors.
static void test_small_vocab_and_errors() {
  std::vector<std::string> tokens;
  for (int b = 0; b < 256; ++b) {
    tokens.push_back(gpt2_bytes_to_text(std::string(1, (char)b)));
  }
  const int32_t bc = (int32_t)tokens.size();
  tokens.push_back("bc");
  const int32_t ab = (int32_t)tokens.size();
  tokens.push_back("ab");
  const int32_t abc = (int32_t)tokens.size();
  tokens.push_back("abc");
  const std::vector<std::string> merges = {"b c", "a b", "ab c"};

  BpeOptions pure;
  pure.whole_piece_lookup = false;
  BpeTokenizer tok;
  BpeStatus st = tok.init_from_merges(tokens, merges, {}, pure);
  CHECK(st.ok(), "small vocab: %s", st.message.c_str());
  // "b c" (rank 0) wins over "a b" (rank 1), and nothing merges "a" + "bc".
  CHECK(tok.encode("abc") == std::vector<int32_t>({'a', bc}), "abc -> %s",
        ids_str(tok.encode("abc")).c_str());
  CHECK(tok.encode("abab") == std::vector<int32_t>({ab, ab}), "abab -> %s",
        ids_str(tok.encode("abab")).c_str());
  BpeTokenizer lookup;
  st = lookup.init_from_merges(tokens, merges, {});
  CHECK(st.ok() && lookup.encode("abc") == std::vector<int32_t>({abc}), "whole-piece lookup");

  // GPT-2 byte mapping: all 256 bytes round-trip; raw ' ' is not a vocabulary character.
  std::string all_bytes;
  for (int b = 0; b < 256; ++b) {
    all_bytes.push_back((char)b);
  }
  std::string back;
  CHECK(gpt2_text_to_bytes(gpt2_bytes_to_text(all_bytes), &back) && back == all_bytes, "GPT-2 byte mapping");
  CHECK(gpt2_byte_to_cpt(' ') == 0x120 && gpt2_byte_to_cpt('\n') == 0x10A && gpt2_byte_to_cpt('A') == 'A',
        "Ġ Ċ");
  back.clear();
  CHECK(!gpt2_text_to_bytes("a b", &back), "raw space rejected");

  BpeTokenizer bad;
  st = bad.init_from_merges(tokens, {"a zz"}, {});
  CHECK(!lookup.init_from_merges(tokens, {"a zz"}, {}).ok() &&
            lookup.encode("abc") == std::vector<int32_t>({abc}),
        "a failed init keeps the tokenizer as it was");
  CHECK(st.code == BpeStatus::BAD_FORMAT, "merge with an unknown token: %s", st.message.c_str());
  st = bad.init_from_merges(tokens, {"abc"}, {});
  CHECK(st.code == BpeStatus::BAD_FORMAT, "merge without a space: %s", st.message.c_str());
  std::vector<std::string> raw = tokens;
  raw.push_back("<|im start|>");
  st = bad.init_from_merges(raw, merges, {});
  CHECK(st.code == BpeStatus::BAD_FORMAT, "undeclared special: %s", st.message.c_str());
  st = bad.init_from_merges(raw, merges, {{(int32_t)raw.size() - 1, "<|im start|>"}});
  CHECK(st.ok(), "declared special: %s", st.message.c_str());
  std::vector<std::string> no_zero(tokens.begin() + 1, tokens.end());
  st = bad.init_from_merges(no_zero, {}, {});
  CHECK(st.code == BpeStatus::BAD_FORMAT && st.message.find("0x") != std::string::npos, "missing byte: %s",
        st.message.c_str());

  std::vector<std::string> ranked;
  CHECK(bpe_parse_tiktoken("IQ== 0\nIg== x\n", "t", &ranked).code == BpeStatus::BAD_FORMAT, "bad rank");
  CHECK(bpe_parse_tiktoken("I?== 0\n", "t", &ranked).code == BpeStatus::BAD_FORMAT, "bad base64");
  CHECK(bpe_parse_tiktoken("IQ== 0\nIg== 0\n", "t", &ranked).code == BpeStatus::BAD_FORMAT, "duplicate rank");
  CHECK(bpe_parse_tiktoken("", "t", &ranked).code == BpeStatus::BAD_FORMAT, "empty file");
  st = bpe_parse_tiktoken("IQ== 0\r\nIg== 1\n\n", "t", &ranked);
  CHECK(st.ok() && ranked.size() == 2 && ranked[0] == "!" && ranked[1] == "\"", "CRLF lines: %s",
        st.message.c_str());
  CHECK(bpe_load_tiktoken_file("/nonexistent/tokenizer.model", &bad).code == BpeStatus::IO_ERROR,
        "missing file");
  std::vector<std::string> bytes256;
  for (int b = 0; b < 256; ++b) {
    bytes256.push_back(std::string(1, (char)b));
  }
  st = bad.init_from_ranks(bytes256, {{2000000000, "<|x|>"}});
  CHECK(st.code == BpeStatus::INVALID_ARGUMENT, "huge special id: %s", st.message.c_str());
  st = bad.init_from_ranks(bytes256, {{65, "<|x|>"}});
  CHECK(st.code == BpeStatus::INVALID_ARGUMENT, "special on an ordinary id: %s", st.message.c_str());
}

// Pathological pieces: the heap keeps them O(n log n).
static void test_long_pieces(const BpeTokenizer& tok) {
  const std::string inputs[] = {std::string(200000, 'a'), std::string(200000, ' '), std::string(100000, '!'),
                                std::string(100000, '7')};
  for (const std::string& s : inputs) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto ids = tok.encode(s);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    CHECK(tok.decode(ids) == s, "long run of '%c' round trip", s[0]);
    CHECK(ms < 2000, "long run of '%c' took %.0f ms", s[0], ms);
  }
}

static double encode_mb_per_s(const BpeTokenizer& tok, const std::string& text, size_t* n_tokens) {
  std::vector<int32_t> ids;
  double best = 1e30;
  const auto start = std::chrono::steady_clock::now();
  for (int run = 0; run < 50; ++run) {
    ids.clear();
    const auto t0 = std::chrono::steady_clock::now();
    tok.encode(text, false, &ids);
    const auto t1 = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double>(t1 - t0).count());
    if (run >= 2 && std::chrono::duration<double>(t1 - start).count() > 2.0) {
      break;
    }
  }
  *n_tokens = ids.size();
  return text.size() / best / 1e6;
}

static void bench(const BpeTokenizer& tok, const std::vector<std::string>& cases, const std::string& dir) {
  std::string once;
  for (const std::string& c : cases) {
    once += c;
  }
  std::string text;
  for (int i = 0; i < 100; ++i) {
    text += once;
  }
  size_t n_tokens = 0;
  const double mbs = encode_mb_per_s(tok, text, &n_tokens);
  std::printf(
      "encode throughput: %.1f MB/s (llama.cpp vectors x100: %zu bytes -> %zu tokens, best of runs, 1 "
      "thread)\n",
      mbs, text.size(), n_tokens);
  CHECK(mbs > 1.0, "encode throughput %.2f MB/s", mbs);

  std::string alpaca;
  if (read_file(dir + "/datasets/alpaca/alpaca_5000.json", &alpaca).ok()) {
    const double a = encode_mb_per_s(tok, alpaca, &n_tokens);
    std::printf("encode throughput: %.1f MB/s (alpaca_5000.json: %zu bytes -> %zu tokens)\n", a,
                alpaca.size(), n_tokens);
  }
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::printf("usage: %s <testdata dir>\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  const std::string model = dir + "/tokenizers/llama3/tokenizer.model";
  const std::string vinp = dir + "/tokenizers/llamacpp-vectors/ggml-vocab-llama-bpe.gguf.inp";
  const std::string vout = dir + "/tokenizers/llamacpp-vectors/ggml-vocab-llama-bpe.gguf.out";
  std::string inp, out;
  {
    std::ifstream probe(model);
    if (!probe || !read_file(vinp, &inp).ok() || !read_file(vout, &out).ok()) {
      std::printf("SKIP: Llama 3 tokenizer or llama.cpp vectors not found under %s\n", dir.c_str());
      return 77;  // ctest: skipped
    }
  }

  BpeTokenizer tok;
  const auto t0 = std::chrono::steady_clock::now();
  BpeStatus st = bpe_load_tiktoken_file(model, &tok);
  const double load_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  CHECK(st.ok(), "load: %s", st.message.c_str());
  if (!st.ok()) {
    std::printf("%d passed, %d failed\n", g_passed, g_failed);
    return 1;
  }
  std::printf("loaded %s: %d ids in %.1f ms\n", model.c_str(), tok.n_vocab(), load_ms);

  const std::vector<std::string> cases = split_cases(inp);
  const std::vector<std::vector<int32_t>> expected = parse_out(out);
  CHECK(cases.size() == 46, "%zu cases", cases.size());
  CHECK(expected.size() == cases.size(), "%zu expected lines for %zu cases", expected.size(), cases.size());
  test_vectors(tok, cases, expected, "tiktoken");

  test_special_tokens(tok);
  test_invalid_utf8(tok);
  test_merge_strategies(tok, cases);
  test_from_merges(tok, cases, expected);
  test_small_vocab_and_errors();
  test_long_pieces(tok);
  bench(tok, cases, dir);

  std::printf("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
