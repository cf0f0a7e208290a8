// SentencePiece BPE against llama.cpp's test vectors (ggml-vocab-llama-spm.gguf, a vocab-only
// GGUF: 46 cases, .inp separated by "\n__ggml_vocab_test__\n", .out one line of ids per case),
// byte fallback and token_bytes on a synthetic vocabulary, and the llama2.c tok512 vocabulary.
#include <sstream>

#include "infer/tokenizer_spm.h"
#include "io/mapped_file.h"
#include "io/model_loader.h"
#include "synthetic_model.h"
#include "testing.h"

using namespace paddock;

static std::vector<std::string> split_cases(const std::string& inp) {
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t at; (at = inp.find(sep, start)) != std::string::npos; start = at + sep.size())
    out.push_back(inp.substr(start, at - start));
  if (start < inp.size()) out.push_back(inp.substr(start));  // no trailing separator
  return out;
}

static void test_llamacpp_vectors(const std::string& root) {
  const std::string base = root + "/tokenizers/llamacpp-vectors/ggml-vocab-llama-spm.gguf";
  if (!pdtest::file_exists(base)) {
    std::printf("%s not found: skipping the llama.cpp vectors\n", base.c_str());
    return;
  }
  std::shared_ptr<Model> m;
  CHECK_OK(load_model(base, LoadOptions(), &m));
  if (!m) return;
  CHECK(m->vocab_only && m->vocab.size() == 32000 && m->vocab.bos_id == 1 && m->vocab.add_bos);
  std::string inp, outp;
  CHECK_OK(read_file(base + ".inp", &inp));
  CHECK_OK(read_file(base + ".out", &outp));
  std::vector<std::string> cases = split_cases(inp);
  std::vector<std::string> lines;
  std::istringstream ls(outp);
  for (std::string line; std::getline(ls, line);) lines.push_back(line);
  CHECK_MSG(cases.size() == 46 && lines.size() >= 46, "found %zu cases and %zu lines", cases.size(), lines.size());
  int pass = 0;
  for (size_t i = 0; i < cases.size() && i < lines.size(); i++) {
    std::vector<int32_t> want;
    std::istringstream is(lines[i]);
    for (int32_t id; is >> id;) want.push_back(id);
    std::vector<int32_t> got = tokenize_spm(m->vocab, cases[i], false);
    if (got == want) {
      pass++;
    } else {
      std::string g;
      for (int32_t id : got) g += " " + std::to_string(id);
      CHECK_MSG(false, "case %zu: expected '%s', got '%s'", i, lines[i].c_str(), g.c_str());
    }
  }
  std::printf("llama.cpp SPM vectors: %d/%zu pass\n", pass, cases.size());
  CHECK(pass == 46);
  std::vector<int32_t> with_bos = tokenize_spm(m->vocab, "Hello world", true);
  CHECK((with_bos == std::vector<int32_t>{1, 15043, 3186}));
  CHECK(tokenize_spm(m->vocab, "<s>", false) != std::vector<int32_t>{1});  // no special-token parsing
}

static void test_synthetic() {
  pdtest::SyntheticModel syn;
  syn.build_vocab();
  Vocab v;
  v.pieces = syn.pieces;
  v.scores = syn.scores;
  v.types = syn.types;
  CHECK_OK(v.finalize("synthetic"));
  // ids 259.. = ▁ a b c ▁a ab abc ▁ab with scores 0, -1, ..., -7. "▁ab": ▁a (-4) beats ab (-5),
  // then (▁a, b) merges into ▁ab.
  std::vector<int32_t> t = tokenize_spm(v, "ab", false);
  CHECK((t == std::vector<int32_t>{266}));
  CHECK((tokenize_spm(v, "cab", false) == std::vector<int32_t>{259, 262, 264}));  // ▁c absent: ▁, c, ab
  std::vector<int32_t> z = tokenize_spm(v, "z\xC3\xA9", false);  // unknown chars -> bytes
  CHECK((z == std::vector<int32_t>{259, 3 + 'z', 3 + 0xC3, 3 + 0xA9}));
  CHECK(v.token_bytes(266) == " ab");
  CHECK(v.token_bytes(3 + 0x0A) == "\n");
  CHECK(v.token_bytes(1).empty() && v.token_bytes(0).empty());
  CHECK(tokenize_spm(v, "", true) == std::vector<int32_t>{1});
}

static void test_tok512(const std::string& root) {
  const std::string tok = root + "/models/stories260K/tok512.bin";
  if (!pdtest::file_exists(tok)) return;
  Vocab v;
  CHECK_OK(read_llama2c_tokenizer(tok, 512, &v));
  CHECK(v.pieces[1] == "<s>" && v.types[1] == kTokenControl && v.types[0] == kTokenUnknown && v.types[3] == kTokenByte);
  CHECK(v.pieces[259] == "\xE2\x96\x81t");
  CHECK(!read_llama2c_tokenizer(tok, 600, &v).ok());  // wrong vocab size is reported
  CHECK(!read_llama2c_tokenizer(tok, 100, &v).ok());
  std::vector<int32_t> ids = tokenize_spm(v, "Once upon a time", true);
  std::string back;
  for (int32_t id : ids) back += v.token_bytes(id);
  CHECK_MSG(back == " Once upon a time", "decoded '%s'", back.c_str());
}

int main(int argc, char** argv) {
  const std::string root = pdtest::testdata_root(argc, argv);
  test_synthetic();
  test_llamacpp_vectors(root);
  test_tok512(root);
  return pdtest::finish("test_tokenizer_spm");
}
