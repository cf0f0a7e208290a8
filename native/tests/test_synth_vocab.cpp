// The real vocabularies synthetic models carry (resources/tokenizers, shipped with the app):
// Llama 2 SentencePiece and Llama 3 byte-level BPE with merges reconstructed from the tiktoken
// ranks. Checked against llama.cpp's tokenizer vectors (46 cases each, when the test data is
// there) and, once written into a small synthetic GGUF and loaded back as a model, against the
// tokenizer.model files themselves.
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "infer/tokenizer_files.h"
#include "io/mapped_file.h"
#include "io/meta_vocab.h"
#include "io/model_loader.h"
#include "io/synthetic_gguf.h"
#include "testing.h"

using namespace paddock;

namespace {

// resources/tokenizers of this checkout (the GPU machine sees the repo, not the test data).
std::string resources_tokenizers() {
  std::string here = __FILE__;
  return here.substr(0, here.rfind("/native/tests/")) + "/resources/tokenizers";
}

// llama.cpp's test-tokenizer-0 vectors: cases separated by a marker line, one line of ids per case.
bool read_vectors(const std::string& base, std::vector<std::string>* cases, std::vector<std::vector<int32_t>>* want) {
  std::string inp, out;
  if (!read_file(base + ".inp", &inp).ok() || !read_file(base + ".out", &out).ok()) return false;
  const std::string sep = "\n__ggml_vocab_test__\n";
  size_t pos = 0;
  for (size_t at; (at = inp.find(sep, pos)) != std::string::npos; pos = at + sep.size()) cases->push_back(inp.substr(pos, at - pos));
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream ids(line);
    std::vector<int32_t> v;
    for (int32_t id; ids >> id;) v.push_back(id);
    want->push_back(v);
  }
  return true;
}

void check_vectors(const Tokenizer& t, const std::string& base, const char* label) {
  std::vector<std::string> cases;
  std::vector<std::vector<int32_t>> want;
  if (!read_vectors(base, &cases, &want)) {
    std::printf("%s: llama.cpp vectors not found (%s.inp): not compared\n", label, base.c_str());
    return;
  }
  CHECK(cases.size() == 46 && want.size() == 46);
  int passed = 0;
  for (size_t i = 0; i < cases.size() && i < want.size(); i++) {
    const bool same = t.encode(cases[i], false) == want[i];
    CHECK_MSG(same, "%s case %zu", label, i);
    passed += same;
  }
  std::printf("%s: %d/%zu llama.cpp vectors\n", label, passed, cases.size());
}

// A tiny model (64 wide, one block) carrying a real vocabulary of `vocab` tokens.
std::shared_ptr<Model> tiny_model_with(SynthVocabKind kind, int64_t vocab, const std::string& dir, const char* file) {
  SynthShape s{"tiny-real-vocab", 64, 128, 1, 4, 2, vocab, 256, true, 10000.0f, false, kind};
  CHECK_OK(write_synthetic_gguf(file, s, SynthType::F32, 7, dir));
  std::shared_ptr<Model> m;
  CHECK_OK(load_model(file, LoadOptions(), &m));
  std::remove(file);
  return m;
}

const char* const kSamples[] = {"Hello world", " leading space", "Tabs\tand\nnewlines", "naïve café — 日本語 🦙",
                                "<|eot_id|> <s> are plain text here", "1234567 + 89 = 1234656"};

void test_llama2(const std::string& dir, const std::string& testdata) {
  Vocab v;
  CHECK_OK(load_llama2_vocab(dir + "/llama2/tokenizer.model", &v));
  CHECK(v.model == "llama" && v.size() == 32000 && v.bos_id == 1 && v.eos_id == 2 && v.unk_id == 0 && v.add_space_prefix);
  CHECK(v.pieces[1] == "<s>" && v.types[1] == kTokenControl && v.pieces[259] == "\xE2\x96\x81\xE2\x96\x81");
  CHECK_OK(v.finalize("llama2"));
  if (v.tokenizer) check_vectors(*v.tokenizer, testdata + "/tokenizers/llamacpp-vectors/ggml-vocab-llama-spm.gguf", "llama2 vocab");

  std::shared_ptr<const Tokenizer> file_tok;
  CHECK_OK(load_tokenizer_file(dir + "/llama2/tokenizer.model", &file_tok));
  std::shared_ptr<Model> m = tiny_model_with(SynthVocabKind::Llama2, 32000, dir, "./synth-llama2-vocab.gguf");
  if (!m || !file_tok) return;
  CHECK(m->vocab.model == "llama" && m->vocab.pieces == v.pieces && m->vocab.scores == v.scores && m->vocab.types == v.types);
  for (const char* s : kSamples) CHECK_MSG(m->vocab.tokenizer->encode(s, true) == file_tok->encode(s, true), "llama2 '%s'", s);
}

void test_llama3(const std::string& dir, const std::string& testdata) {
  Vocab v;
  CHECK_OK(load_llama3_vocab(dir + "/llama3/tokenizer.model", &v));
  CHECK(v.model == "gpt2" && v.pre == "llama-bpe" && v.size() == 128256);
  CHECK(v.pieces[128000] == "<|begin_of_text|>" && v.pieces[128009] == "<|eot_id|>" && v.pieces[128008] == "<|eom_id|>" &&
        v.pieces[128255] == "<|reserved_special_token_247|>" && v.types[128000] == kTokenControl && v.types[127999] == kTokenNormal);
  CHECK(v.bos_id == 128000 && v.eos_id == 128009 && v.eot_id == 128009 && !v.add_space_prefix);
  CHECK(v.pieces[220] == "\xC4\xA0");  // byte ' ' in GPT-2 form: "Ġ"
  // Every non-byte token is the product of at least one merge; HF's conversion of these ranks
  // (the tokenizer.json of Meta's Llama 3 repos) has 280,147.
  std::printf("llama3 merges reconstructed: %zu\n", v.merges.size());
  CHECK(v.merges.size() == 280147);
  CHECK(v.merges[0] == "\xC4\xA0 \xC4\xA0");  // rank 256 is "  " (two spaces)
  CHECK_OK(v.finalize("llama3"));
  if (v.tokenizer) check_vectors(*v.tokenizer, testdata + "/tokenizers/llamacpp-vectors/ggml-vocab-llama-bpe.gguf", "llama3 vocab");

  std::shared_ptr<const Tokenizer> file_tok;
  CHECK_OK(load_tokenizer_file(dir + "/llama3/tokenizer.model", &file_tok));
  std::shared_ptr<Model> m = tiny_model_with(SynthVocabKind::Llama3, 128256, dir, "./synth-llama3-vocab.gguf");
  if (!m || !file_tok) return;
  CHECK(m->vocab.model == "gpt2" && m->vocab.pre == "llama-bpe" && m->vocab.merges == v.merges && m->vocab.pieces == v.pieces);
  CHECK(m->vocab.tokenizer->eot_id() == 128009 && m->vocab.tokenizer->is_eog(128009));
  for (const char* s : kSamples) CHECK_MSG(m->vocab.tokenizer->encode(s, true) == file_tok->encode(s, true), "llama3 '%s'", s);
  std::string tpl, want_tpl;
  for (const auto& [key, value] : m->metadata)
    if (key == "tokenizer.chat_template") tpl = value.string;
  CHECK(read_file(dir + "/llama3/chat_template.jinja", &want_tpl).ok() && !want_tpl.empty() && tpl == want_tpl);
}

// A real vocabulary whose size differs from the shape's is refused, naming both.
void test_size_mismatch(const std::string& dir) {
  SynthShape s{"odd-vocab", 64, 128, 1, 4, 2, 32001, 256, true, 10000.0f, false, SynthVocabKind::Llama2};
  Vocab v;
  std::string tpl;
  Status st = synth_shape_vocab(s, dir, &v, &tpl);
  CHECK_MSG(st.code() == ErrorCode::BadModelFile && st.message().find("32001") != std::string::npos, "%s", st.to_string().c_str());
  st = synth_shape_vocab(s, "/nonexistent-dir", &v, &tpl);
  CHECK_MSG(st.code() == ErrorCode::IO && st.message().find("/nonexistent-dir/llama2/tokenizer.model") != std::string::npos,
            "%s", st.to_string().c_str());
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = resources_tokenizers();
  if (!pdtest::file_exists(dir + "/llama2/tokenizer.model") || !pdtest::file_exists(dir + "/llama3/tokenizer.model")) {
    std::printf("skip: %s holds no tokenizer.model files\n", dir.c_str());
    return pdtest::kSkip;
  }
  const std::string testdata = pdtest::testdata_root(argc, argv);
  test_llama2(dir, testdata);
  test_llama3(dir, testdata);
  test_size_mismatch(dir);
  return pdtest::finish("test_synth_vocab");
}
