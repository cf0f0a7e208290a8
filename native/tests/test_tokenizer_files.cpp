// Tokenizer files and the common Tokenizer face: the hand-written SentencePiece protobuf parse
// (tiny models built here, and Llama 2's tokenizer.model against its GGUF), GGUF "gpt2"
// vocabularies (tiny ones written with GgufWriter; Llama 3's, derived from tokenizer.model with
// merges, through llama.cpp's vectors, as a vocab-only file and as a model's vocabulary), HF
// tokenizer.json (byte-level and Llama 2 style) and the UNSUPPORTED / BAD_MODEL_FILE cases.
// usage: test_tokenizer_files <testdata dir>
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "infer/bpe_byte_unicode.h"
#include "infer/bpe_tiktoken_file.h"
#include "infer/bpe_tokenizer.h"
#include "infer/tokenizer_files.h"
#include "io/gguf_writer.h"
#include "io/mapped_file.h"
#include "io/model_loader.h"
#include "testing.h"

using namespace paddock;

namespace {

std::string tmp_path(const std::string& name) {
  return "/tmp/paddock-tokfiles-" + std::to_string((long)getpid()) + "-" + name;
}

void spit(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary);
  f << data;
}

// ---- protobuf writer (wire format) ----
void pb_varint(std::string* o, uint64_t v) {
  while (v >= 0x80) {
    *o += (char)(0x80 | (v & 0x7F));
    v >>= 7;
  }
  *o += (char)v;
}
void pb_key(std::string* o, uint32_t field, uint32_t wire) { pb_varint(o, (uint64_t)field << 3 | wire); }
void pb_bytes(std::string* o, uint32_t field, const std::string& b) {
  pb_key(o, field, 2);
  pb_varint(o, b.size());
  *o += b;
}
void pb_int(std::string* o, uint32_t field, int64_t v) {
  pb_key(o, field, 0);
  pb_varint(o, (uint64_t)v);
}
void pb_float(std::string* o, uint32_t field, float f) {
  pb_key(o, field, 5);
  char b[4];
  std::memcpy(b, &f, 4);
  o->append(b, 4);
}

std::string spm_piece(const std::string& piece, float score, int type) {
  std::string m;
  pb_bytes(&m, 1, piece);
  pb_float(&m, 2, score);
  if (type != 1) pb_int(&m, 3, type);
  return m;
}

const char* kSp = "\xE2\x96\x81";  // "▁"

std::string tiny_spm_proto(int model_type, bool add_dummy_prefix) {
  std::string m;
  pb_bytes(&m, 1, spm_piece("<unk>", 0, 2));
  pb_bytes(&m, 1, spm_piece("<s>", 0, 3));
  pb_bytes(&m, 1, spm_piece("</s>", 0, 3));
  for (int b = 0; b < 256; b++) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    pb_bytes(&m, 1, spm_piece(name, 0, 6));
  }
  // 259..: ▁ a b ▁a ab ▁ab
  pb_bytes(&m, 1, spm_piece(kSp, -1, 1));
  pb_bytes(&m, 1, spm_piece("a", -2, 1));
  pb_bytes(&m, 1, spm_piece("b", -3, 1));
  pb_bytes(&m, 1, spm_piece(std::string(kSp) + "a", -4, 1));
  pb_bytes(&m, 1, spm_piece("ab", -5, 1));
  pb_bytes(&m, 1, spm_piece(std::string(kSp) + "ab", -6, 1));
  std::string trainer;
  pb_bytes(&trainer, 2, "model_prefix");  // a string field to skip
  pb_int(&trainer, 3, model_type);
  pb_int(&trainer, 35, 1);   // byte_fallback
  pb_int(&trainer, 40, 0);   // unk_id
  pb_int(&trainer, 41, 1);   // bos_id
  pb_int(&trainer, 42, 2);   // eos_id
  pb_int(&trainer, 43, -1);  // pad_id: a negative varint (10 bytes)
  pb_bytes(&m, 2, trainer);
  std::string norm;
  pb_bytes(&norm, 1, "identity");
  pb_int(&norm, 3, add_dummy_prefix ? 1 : 0);
  pb_bytes(&m, 3, norm);
  return m;
}

void test_protobuf() {
  Vocab v;
  CHECK_OK(parse_spm_model_proto(tiny_spm_proto(2, true), "tiny", &v));
  CHECK(v.size() == 265);
  CHECK(v.types[0] == kTokenUnknown && v.types[1] == kTokenControl && v.types[3] == kTokenByte && v.types[259] == kTokenNormal);
  CHECK(v.pieces[264] == std::string(kSp) + "ab" && v.scores[264] == -6.0f);
  CHECK(v.bos_id == 1 && v.eos_id == 2 && v.unk_id == 0 && v.add_space_prefix);
  CHECK(v.tokenizer && std::strcmp(v.tokenizer->kind(), "spm") == 0);
  if (v.tokenizer) {
    // "ab a" -> ▁ab ▁a; "é" falls back to bytes C3 A9 (ids 3 + byte)
    CHECK((v.tokenizer->encode("ab a", true) == std::vector<int32_t>{1, 264, 262}));
    CHECK((v.tokenizer->encode("\xC3\xA9", false) == std::vector<int32_t>{259, 3 + 0xC3, 3 + 0xA9}));
    CHECK(v.tokenizer->decode(v.tokenizer->encode("ab a \xC3\xA9", true)) == "ab a \xC3\xA9");
    CHECK((v.tokenizer->encode("<s>ab", false, true) == std::vector<int32_t>{1, 264}));
  }
  Vocab nv;
  CHECK_OK(parse_spm_model_proto(tiny_spm_proto(2, false), "tiny", &nv));
  CHECK(!nv.add_space_prefix);
  if (nv.tokenizer) CHECK((nv.tokenizer->encode("ab", false) == std::vector<int32_t>{263}));

  Vocab u;
  Status st = parse_spm_model_proto(tiny_spm_proto(1, true), "uni.model", &u);
  CHECK_MSG(st.code() == ErrorCode::Unsupported && st.message().find("uni.model") != std::string::npos, "%s", st.to_string().c_str());
  std::string bad = tiny_spm_proto(2, true);
  bad.resize(bad.size() / 2);
  st = parse_spm_model_proto(bad, "cut.model", &u);
  CHECK_MSG(st.code() == ErrorCode::BadModelFile, "%s", st.to_string().c_str());

  // Through load_tokenizer_file (detection by content).
  const std::string p = tmp_path("tiny.model");
  spit(p, tiny_spm_proto(2, true));
  std::shared_ptr<const Tokenizer> t;
  CHECK_OK(load_tokenizer_file(p, &t));
  CHECK(t && t->n_vocab() == 265);
  std::remove(p.c_str());
}

// A tiny byte-level vocabulary: 256 bytes (GPT-2 form), merges "Ġ t" "h e" "Ġt he", specials.
GgufWriter tiny_gpt2_gguf(const std::string& pre, bool with_arch) {
  std::vector<std::string> tokens;
  for (int b = 0; b < 256; b++) tokens.push_back(gpt2_bytes_to_text(std::string(1, (char)b)));
  tokens.push_back("\xC4\xA0t");          // 256 "Ġt"
  tokens.push_back("he");                 // 257
  tokens.push_back("\xC4\xA0the");        // 258
  tokens.push_back("<|begin_of_text|>");  // 259
  tokens.push_back("<|end_of_text|>");    // 260
  tokens.push_back("<|eot_id|>");         // 261
  std::vector<int32_t> types(tokens.size(), kTokenNormal);
  types[259] = types[260] = types[261] = kTokenControl;
  GgufWriter w;
  if (with_arch) {
    w.set_string("general.architecture", "llama");
    w.set_u32("llama.embedding_length", 64);
    w.set_u32("llama.feed_forward_length", 128);
    w.set_u32("llama.block_count", 1);
    w.set_u32("llama.attention.head_count", 4);
    w.set_u32("llama.context_length", 128);
  }
  w.set_string("tokenizer.ggml.model", "gpt2");
  if (!pre.empty()) w.set_string("tokenizer.ggml.pre", pre);
  w.set_string_array("tokenizer.ggml.tokens", tokens);
  w.set_i32_array("tokenizer.ggml.token_type", types);
  w.set_string_array("tokenizer.ggml.merges", {"\xC4\xA0 t", "h e", "\xC4\xA0t he"});
  w.set_u32("tokenizer.ggml.bos_token_id", 259);
  w.set_u32("tokenizer.ggml.eos_token_id", 260);
  return w;
}

void test_gguf_gpt2_tiny() {
  const std::string p = tmp_path("tiny-gpt2.gguf");
  CHECK_OK(tiny_gpt2_gguf("llama-bpe", true).write_file(p));
  std::shared_ptr<const Tokenizer> t;
  CHECK_OK(load_tokenizer_file(p, &t));
  CHECK(t && std::strcmp(t->kind(), "bpe") == 0);
  if (t) {
    CHECK(t->n_vocab() == 262 && t->bos_id() == 259 && t->eos_id() == 260 && t->eot_id() == 261);
    CHECK(t->is_eog(260) && t->is_eog(261) && !t->is_eog(259) && !t->is_eog(258));
    CHECK((t->encode(" the the", true) == std::vector<int32_t>{259, 258, 258}));
    CHECK((t->encode("x<|eot_id|>", false, true) == std::vector<int32_t>{'x', 261}));
    CHECK(t->encode("<|eot_id|>", false, false).size() > 1);
    CHECK(t->token_bytes(258) == " the" && t->token_bytes(261).empty() && t->token_text(261) == "<|eot_id|>");
    CHECK(t->token_text(258) == "\xC4\xA0the");
    CHECK(t->decode(t->encode(" the\n\xC3\xA9 x", true)) == " the\n\xC3\xA9 x");
  }
  // As a model's vocabulary (vocab-only: no tensors).
  std::shared_ptr<Model> m;
  CHECK_OK(load_model(p, LoadOptions(), &m));
  if (m) {
    CHECK(m->vocab_only && m->has_vocab && m->vocab.model == "gpt2" && m->config.vocab_size == 262);
    CHECK(m->vocab.tokenizer && std::strcmp(m->vocab.tokenizer->kind(), "bpe") == 0);
    CHECK(m->vocab.token_bytes(258) == " the" && m->vocab.token_bytes(259).empty());
  }
  std::remove(p.c_str());

  // Other pre-tokenizers are refused, naming them.
  for (const char* pre : {"gpt-2", "qwen2", ""}) {
    CHECK_OK(tiny_gpt2_gguf(pre, false).write_file(p));
    Status st = load_tokenizer_file(p, &t);
    CHECK_MSG(st.code() == ErrorCode::Unsupported && st.message().find(*pre ? pre : "missing") != std::string::npos, "%s",
              st.to_string().c_str());
  }
  std::remove(p.c_str());
}

std::vector<std::string> split_cases(const std::string& inp) {
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> out;
  size_t pos = 0;
  for (size_t at; (at = inp.find(sep, pos)) != std::string::npos; pos = at + sep.size()) out.push_back(inp.substr(pos, at - pos));
  return out;
}

std::vector<std::vector<int32_t>> parse_out(const std::string& out) {
  std::vector<std::vector<int32_t>> r;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream ids(line);
    std::vector<int32_t> v;
    for (int32_t id; ids >> id;) v.push_back(id);
    r.push_back(v);
  }
  return r;
}

int check_vectors(const Tokenizer& t, const std::vector<std::string>& cases, const std::vector<std::vector<int32_t>>& want,
                  const char* label) {
  int passed = 0;
  for (size_t i = 0; i < cases.size() && i < want.size(); i++) {
    const std::vector<int32_t> got = t.encode(cases[i], false);
    CHECK_MSG(got == want[i], "%s case %zu", label, i);
    CHECK_MSG(t.decode(got) == cases[i], "%s round trip %zu", label, i);
    passed += got == want[i];
  }
  std::printf("%s: %d/%zu llama.cpp vectors\n", label, passed, cases.size());
  return passed;
}

std::string json_str(const std::string& s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') o += '\\', o += (char)c;
    else if (c < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      o += b;
    } else o += (char)c;
  }
  return o + "\"";
}

// Llama 3 as a GGUF "gpt2" vocabulary and as HF tokenizer.json, derived from tokenizer.model
// (merges as HF's conversion makes them), through llama.cpp's vectors.
void test_llama3_derived(const std::string& dir) {
  const std::string model = dir + "/tokenizers/llama3/tokenizer.model";
  const std::string vec = dir + "/tokenizers/llamacpp-vectors/ggml-vocab-llama-bpe.gguf";
  std::string inp, outs;
  if (!pdtest::file_exists(model) || !read_file(vec + ".inp", &inp).ok() || !read_file(vec + ".out", &outs).ok()) {
    std::printf("skip: Llama 3 tokenizer or vectors not found under %s\n", dir.c_str());
    return;
  }
  const auto cases = split_cases(inp);
  const auto want = parse_out(outs);
  CHECK(cases.size() == 46 && want.size() == 46);
  BpeTokenizer tok;
  CHECK(bpe_load_tiktoken_file(model, &tok).ok());
  std::vector<std::string> tokens((size_t)tok.n_vocab());
  std::vector<int32_t> types((size_t)tok.n_vocab(), kTokenNormal);
  std::vector<std::string> merges;
  for (int32_t id = 0; id < tok.n_vocab(); ++id) {
    const std::string_view b = tok.token_bytes(id);
    if (tok.is_special(id)) {
      tokens[(size_t)id] = std::string(b);
      types[(size_t)id] = kTokenControl;
      continue;
    }
    tokens[(size_t)id] = gpt2_bytes_to_text(b);
    std::vector<std::pair<int32_t, int32_t>> splits;
    for (size_t cut = 1; cut < b.size(); ++cut) {
      const int32_t l = tok.find_token(b.substr(0, cut)), r = tok.find_token(b.substr(cut));
      if (l >= 0 && r >= 0) splits.emplace_back(l, r);
    }
    std::sort(splits.begin(), splits.end());
    for (const auto& lr : splits) merges.push_back(gpt2_bytes_to_text(tok.token_bytes(lr.first)) + " " + gpt2_bytes_to_text(tok.token_bytes(lr.second)));
  }
  GgufWriter w;
  w.set_string("tokenizer.ggml.model", "gpt2");
  w.set_string("tokenizer.ggml.pre", "llama-bpe");
  w.set_string_array("tokenizer.ggml.tokens", tokens);
  w.set_i32_array("tokenizer.ggml.token_type", types);
  w.set_string_array("tokenizer.ggml.merges", merges);
  w.set_u32("tokenizer.ggml.bos_token_id", 128000);
  w.set_u32("tokenizer.ggml.eos_token_id", 128001);
  const std::string p = tmp_path("llama3-vocab.gguf");
  CHECK_OK(w.write_file(p));
  std::shared_ptr<const Tokenizer> t;
  CHECK_OK(load_tokenizer_file(p, &t));
  if (t) {
    CHECK(t->n_vocab() == 128256 && t->eot_id() == 128009 && t->is_eog(128009));
    CHECK(check_vectors(*t, cases, want, "Llama 3 GGUF gpt2") == 46);
  }
  std::remove(p.c_str());

  // HF tokenizer.json (merges as arrays, specials in added_tokens, outside model.vocab).
  std::string j = "{\"version\":\"1.0\",\"added_tokens\":[";
  bool first = true;
  for (const BpeSpecialToken& s : tok.special_tokens()) {
    j += (first ? "" : ",") + std::string("{\"id\":") + std::to_string(s.id) + ",\"content\":" + json_str(s.text) + ",\"special\":true}";
    first = false;
  }
  j += "],\"pre_tokenizer\":{\"type\":\"Sequence\"},\"model\":{\"type\":\"BPE\",\"ignore_merges\":true,\"vocab\":{";
  first = true;
  for (int32_t id = 0; id < tok.n_vocab(); ++id) {
    if (tok.is_special(id)) continue;
    j += (first ? "" : ",") + json_str(tokens[(size_t)id]) + ":" + std::to_string(id);
    first = false;
  }
  j += "},\"merges\":[";
  for (size_t i = 0; i < merges.size(); i++) {
    const size_t sp = merges[i].find(' ');
    j += (i ? "," : "") + std::string("[") + json_str(merges[i].substr(0, sp)) + "," + json_str(merges[i].substr(sp + 1)) + "]";
  }
  j += "]}}";
  const std::string pj = tmp_path("tokenizer.json");
  spit(pj, j);
  CHECK_OK(load_tokenizer_file(pj, &t));
  if (t) {
    CHECK(t->n_vocab() == 128256 && t->bos_id() == 128000 && t->eos_id() == 128001);
    CHECK(check_vectors(*t, cases, want, "Llama 3 tokenizer.json") == 46);
  }
  std::remove(pj.c_str());
}

// Llama 2: tokenizer.model (protobuf) == the vocab-only GGUF; and a Llama 2 style tokenizer.json.
void test_llama2(const std::string& dir) {
  const std::string model = dir + "/tokenizers/llama2/tokenizer.model";
  const std::string vec = dir + "/tokenizers/llamacpp-vectors/ggml-vocab-llama-spm.gguf";
  std::string data, inp, outs;
  if (!read_file(model, &data).ok() || !read_file(vec + ".inp", &inp).ok() || !read_file(vec + ".out", &outs).ok()) {
    std::printf("skip: Llama 2 tokenizer or vectors not found under %s\n", dir.c_str());
    return;
  }
  Vocab v;
  CHECK_OK(parse_spm_model_proto(data, model, &v));
  std::shared_ptr<Model> g;
  LoadOptions lo;
  CHECK_OK(load_model(vec, lo, &g));
  if (!g) return;
  CHECK(g->vocab_only);
  CHECK(v.pieces == g->vocab.pieces);
  CHECK(v.scores == g->vocab.scores);
  CHECK(v.types == g->vocab.types);
  CHECK(v.bos_id == 1 && v.eos_id == 2 && v.unk_id == 0 && v.add_space_prefix);
  const auto cases = split_cases(inp);
  const auto want = parse_out(outs);
  if (v.tokenizer) CHECK(check_vectors(*v.tokenizer, cases, want, "Llama 2 tokenizer.model") == 46);

  // tokenizer.json as HF's converter writes it for Llama 2: "▁" pieces, byte_fallback, merges
  // ordered by the merged piece's score.
  std::vector<std::pair<float, std::string>> merges;
  for (size_t i = 0; i < v.pieces.size(); i++) {
    if (v.types[i] != kTokenNormal) continue;
    const std::string& p = v.pieces[i];
    for (size_t cut = 1; cut < p.size(); cut++) {
      if ((p[cut] & 0xC0) == 0x80) continue;
      auto l = v.piece_to_id.find(p.substr(0, cut)), r = v.piece_to_id.find(p.substr(cut));
      if (l != v.piece_to_id.end() && r != v.piece_to_id.end()) merges.push_back({-v.scores[i], p.substr(0, cut) + " " + p.substr(cut)});
    }
  }
  std::stable_sort(merges.begin(), merges.end(), [](auto& a, auto& b) { return a.first < b.first; });
  std::string j =
      "{\"added_tokens\":[{\"id\":0,\"content\":\"<unk>\",\"special\":true},{\"id\":1,\"content\":\"<s>\",\"special\":true},"
      "{\"id\":2,\"content\":\"</s>\",\"special\":true}],\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":"
      "\"Prepend\",\"prepend\":\"\xE2\x96\x81\"},{\"type\":\"Replace\"}]},\"model\":{\"type\":\"BPE\",\"unk_token\":\"<unk>\","
      "\"byte_fallback\":true,\"vocab\":{";
  for (size_t i = 0; i < v.pieces.size(); i++) j += (i ? "," : "") + json_str(v.pieces[i]) + ":" + std::to_string(i);
  j += "},\"merges\":[";
  for (size_t i = 0; i < merges.size(); i++) j += (i ? "," : "") + json_str(merges[i].second);
  j += "]}}";
  const std::string pj = tmp_path("llama2-tokenizer.json");
  spit(pj, j);
  std::shared_ptr<const Tokenizer> t;
  CHECK_OK(load_tokenizer_file(pj, &t));
  if (t) {
    CHECK(std::strcmp(t->kind(), "spm") == 0 && t->bos_id() == 1 && t->eos_id() == 2);
    CHECK(check_vectors(*t, cases, want, "Llama 2 tokenizer.json") == 46);
  }
  std::remove(pj.c_str());
}

void test_not_a_tokenizer() {
  const std::string p = tmp_path("junk.txt");
  spit(p, "hello, this is not a tokenizer\n");
  std::shared_ptr<const Tokenizer> t;
  Status st = load_tokenizer_file(p, &t);
  CHECK_MSG(st.code() == ErrorCode::BadModelFile && st.message().find(p) != std::string::npos, "%s", st.to_string().c_str());
  spit(p, "{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}");
  st = load_tokenizer_file(p, &t);
  CHECK_MSG(st.code() == ErrorCode::Unsupported, "%s", st.to_string().c_str());
  spit(p, "{\"model\": ");
  st = load_tokenizer_file(p, &t);
  CHECK_MSG(st.code() == ErrorCode::BadModelFile, "%s", st.to_string().c_str());
  std::remove(p.c_str());
  st = load_tokenizer_file(tmp_path("does-not-exist"), &t);
  CHECK_MSG(st.code() == ErrorCode::IO, "%s", st.to_string().c_str());
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = pdtest::testdata_root(argc, argv);
  test_protobuf();
  test_gguf_gpt2_tiny();
  test_not_a_tokenizer();
  if (!dir.empty()) {
    test_llama2(dir);
    test_llama3_derived(dir);
  }
  return pdtest::finish("test_tokenizer_files");
}
