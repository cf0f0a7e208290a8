// HF checkpoint folders (config.json + safetensors + tokenizer) against the same model as GGUF:
// stories260K written as HF in F32, F16 and BF16 (single file, 2 shards + index, and with norms
// in the half type as such checkpoints store them) gives the GGUF's logits bit for bit and its
// greedy text (F32: run.c's), half norms within their rounding; tokenizer.json, tokenizer.model
// and the side files give the right vocabulary, special tokens and chat template (Llama 3's
// vocabulary as tokenizer.json passes llama.cpp's 46 vectors); RoPE scaling is read; a
// stories15m-shape model loads about as fast as its GGUF (times printed).
#include <chrono>
#include <cmath>
#include <cstring>
#include <unordered_map>

#include "infer/bpe_byte_unicode.h"
#include "infer/bpe_tiktoken_file.h"
#include "infer/sampler.h"
#include "infer/tokenizer_files.h"
#include "io/hf_config.h"
#include "io/mapped_file.h"
#include "io/model_export.h"
#include "io/model_loader.h"
#include "io/synthetic_gguf.h"
#include "model/llama_context.h"
#include "test_hf_folder.h"
#include "testing.h"

using namespace paddock;

static const char* kText = "Once upon a time, there was a little girl named Lily. She loved to play outside.";

// Teacher-forced logits at every position of `ids`, one decode per token.
static std::vector<float> forced_logits(std::shared_ptr<Model> m, const std::vector<int32_t>& ids) {
  std::unique_ptr<LlamaContext> ctx;
  CHECK_OK(LlamaContext::create(m, 256, 2, &ctx));
  std::vector<float> all, l;
  if (!ctx) return all;
  for (int32_t t : ids) {
    CHECK_OK(ctx->decode(&t, 1, &l));
    all.insert(all.end(), l.begin(), l.end());
  }
  return all;
}

static std::vector<int32_t> greedy_ids(std::shared_ptr<Model> m, int steps) {
  std::unique_ptr<LlamaContext> ctx;
  CHECK_OK(LlamaContext::create(m, 256, 2, &ctx));
  std::vector<int32_t> out;
  int32_t tok = m->vocab.bos_id;
  std::vector<float> l;
  for (int i = 0; ctx && i < steps; i++) {
    if (!ctx->decode(&tok, 1, &l).ok()) break;
    tok = argmax(l.data(), (int64_t)l.size());
    out.push_back(tok);
  }
  return out;
}

// run.c's printing of greedy ids (stop at BOS, leading space after BOS dropped, lone
// unprintable bytes skipped), to compare with expected_run_c_t0_n200.txt.
static std::string run_c_text(const Model& m, const std::vector<int32_t>& ids) {
  std::string out;
  int32_t prev = m.vocab.bos_id;
  for (int32_t id : ids) {
    if (id == 1) break;
    std::string piece = m.vocab.token_bytes(id);
    if (prev == 1 && !piece.empty() && piece[0] == ' ') piece.erase(0, 1);
    if (piece.size() == 1 && !(std::isprint((unsigned char)piece[0]) || std::isspace((unsigned char)piece[0]))) piece.clear();
    out += piece;
    prev = id;
  }
  return out;
}

static double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size() || a.empty()) return INFINITY;
  double d = 0;
  for (size_t i = 0; i < a.size(); i++) d = std::max(d, (double)std::fabs(a[i] - b[i]));
  return d;
}

static std::shared_ptr<Model> load(const std::string& path, const std::string& tokenizer = "") {
  LoadOptions o;
  o.tokenizer_path = tokenizer;
  std::shared_ptr<Model> m;
  CHECK_OK(load_model(path, o, &m));
  return m;
}

static void test_stories260k(const std::string& data) {
  std::shared_ptr<Model> ref = load(data + "stories260K.bin", data + "tok512.bin");
  if (!ref) return;
  std::string expected;
  CHECK_OK(read_file(data + "expected_run_c_t0_n200.txt", &expected));
  std::vector<int32_t> ids = ref->vocab.tokenizer->encode(kText, true);
  ids.resize(std::min<size_t>(ids.size(), 64));

  for (DType type : {DType::F32, DType::F16, DType::BF16}) {
    const std::string tn = dtype_name(type);
    const std::string gguf = hftest::tmp_root() + "/260k-" + tn + ".gguf";
    CHECK_OK(export_gguf(*ref, gguf, type));
    std::shared_ptr<Model> g = load(gguf);
    if (!g) continue;
    const std::vector<float> want = forced_logits(g, ids);
    const std::vector<int32_t> want_greedy = greedy_ids(g, 200);

    struct Variant {
      const char* label;
      int shards;
      bool norms_f32, tokenizer_json;
    } variants[] = {{"single", 1, true, true}, {"sharded", 2, true, false}, {"half-norms", 1, false, true}};
    for (const Variant& v : variants) {
      if (type == DType::F32 && !v.norms_f32) continue;  // same as "single"
      hftest::WriteOptions o;
      o.type = type;
      o.shards = v.shards;
      o.norms_f32 = v.norms_f32;
      o.tokenizer_json = v.tokenizer_json;
      const std::string dir = hftest::fresh_dir("260k-" + tn + "-" + v.label);
      CHECK(hftest::write_hf_folder(*ref, dir, o));
      std::shared_ptr<Model> h = load(dir, v.tokenizer_json ? "" : data + "tok512.bin");
      if (!h) continue;
      CHECK(h->format == ModelFormat::HF && std::string(h->format_name()) == "hf");
      CHECK(h->config.dim == 64 && h->config.n_layers == 5 && h->config.n_kv_heads == 4 && h->config.tied_embeddings);
      CHECK(h->tensor_type == tn && h->parameter_count == g->parameter_count);
      CHECK(h->shards.size() == (size_t)v.shards - 1 && h->name == dir.substr(dir.find_last_of('/') + 1));
      const std::vector<float> got = forced_logits(h, ids);
      const double d = max_abs_diff(got, want);
      if (v.norms_f32) {
        // Same bytes as the GGUF for every tensor: the forward must give identical logits.
        CHECK_MSG(d == 0.0, "%s %s: logits differ from the GGUF's by %g", tn.c_str(), v.label, d);
      } else {
        // Norm weights rounded to the half type (as such checkpoints store them) move the
        // logits by about that rounding: 2^-11 relative for F16, 2^-8 for BF16.
        const double tol = type == DType::F16 ? 3e-2 : 2e-1;
        CHECK_MSG(d < tol, "%s %s: logits differ from the GGUF's by %g", tn.c_str(), v.label, d);
        // Converted exactly: the GGUF written from this model (norms as F32) runs identically.
        const std::string again = hftest::tmp_root() + "/260k-again.gguf";
        CHECK_OK(export_gguf(*h, again, type));
        std::shared_ptr<Model> ga = load(again);
        if (ga) CHECK_MSG(max_abs_diff(forced_logits(ga, ids), got) == 0.0, "%s: half norms not converted exactly", tn.c_str());
      }
      const std::vector<int32_t> greedy = greedy_ids(h, 200);
      if (v.norms_f32) CHECK_MSG(greedy == want_greedy, "%s %s: greedy continuation differs", tn.c_str(), v.label);
      if (type == DType::F32) CHECK(run_c_text(*h, greedy) == expected);
      // tokenizer.json made from the vocabulary tokenizes as the original.
      for (const char* s : {kText, "  two  spaces, digits 1234 and bytes \xC3\xA9\xE2\x82\xAC!", ""})
        CHECK_MSG(h->vocab.tokenizer->encode(s, true) == ref->vocab.tokenizer->encode(s, true), "%s: encode('%s')",
                  v.label, s);
      std::printf("stories260K HF %s %s: logits max |diff| vs GGUF %g, greedy 200 %s\n", tn.c_str(), v.label, d,
                  greedy == want_greedy ? "equal" : "DIFFERENT");
    }
    std::remove(gguf.c_str());
  }
}

// generation_config.json / tokenizer_config.json: special ids, add_bos and the chat template;
// readModelInfo (info_only) of a folder without tokenizer.
static void test_side_files(const std::string& data) {
  std::shared_ptr<Model> ref = load(data + "stories260K.bin", data + "tok512.bin");
  if (!ref) return;
  const std::string dir = hftest::fresh_dir("260k-side");
  hftest::WriteOptions o;
  o.tokenizer_json = false;
  CHECK(hftest::write_hf_folder(*ref, dir, o));
  LoadOptions info;
  info.info_only = true;
  std::shared_ptr<Model> m;
  CHECK_OK(load_model(dir, info, &m));
  CHECK(m && !m->has_vocab && m->config.vocab_size == 512 && m->parameter_count == ref->parameter_count);
  Status st = load_model(dir, LoadOptions(), &m);
  CHECK_MSG(st.code() == ErrorCode::BadModelFile && st.message().find("tokenizer.json") != std::string::npos &&
                st.message().find(dir) != std::string::npos, "%s", st.to_string().c_str());

  CHECK(hftest::write_text(dir + "/tokenizer.json", hftest::spm_tokenizer_json(ref->vocab)));
  CHECK(hftest::write_text(dir + "/tokenizer_config.json",
                           "{\"add_bos_token\": false, \"bos_token\": {\"content\": \"</s>\"}, \"eos_token\": \"<unk>\", "
                           "\"chat_template\": \"{% for m in messages %}{{ m['content'] }}{% endfor %}\"}"));
  m = load(dir);
  if (m) {
    CHECK(m->vocab.bos_id == 2 && m->vocab.eos_id == 0 && !m->vocab.add_bos);
    CHECK(m->vocab.tokenizer->encode("a", true).at(0) == 2);  // the tokenizer uses the chosen BOS
    bool found = false;
    for (const auto& kv : m->metadata)
      if (kv.first == "tokenizer.chat_template") found = kv.second.string == "{% for m in messages %}{{ m['content'] }}{% endfor %}";
    CHECK(found);
  }
  // generation_config.json ids win over tokenizer_config.json texts; a list gives its first id.
  CHECK(hftest::write_text(dir + "/generation_config.json", "{\"bos_token_id\": 1, \"eos_token_id\": [2, 0]}"));
  m = load(dir);
  CHECK(m && m->vocab.bos_id == 1 && m->vocab.eos_id == 2);
  // A tokenizer smaller than the embedding: the extra ids are unused tokens with no text.
  Vocab small = ref->vocab;
  small.pieces.resize(500);
  small.scores.resize(500);
  small.types.resize(500);
  CHECK(hftest::write_text(dir + "/tokenizer.json", hftest::spm_tokenizer_json(small)));
  m = load(dir);
  CHECK(m && m->vocab.size() == 512 && m->vocab.token_bytes(505).empty() && m->vocab.token_bytes(499) == ref->vocab.token_bytes(499));
  CHECK(m && m->vocab.tokenizer->encode("a", false) == ref->vocab.tokenizer->encode("a", false));
}

// An HF folder's tokenizer.model: Llama 3's tiktoken file and Llama 2's SentencePiece model load
// into a Vocab the model can hold, with tokenizer_config.json's special tokens applied.
static void test_tokenizer_model(const std::string& root) {
  const std::string l3 = root + "/tokenizers/llama3/tokenizer.model", l2 = root + "/tokenizers/llama2/tokenizer.model";
  if (!pdtest::file_exists(l3) || !pdtest::file_exists(l2)) return;
  TokenizerOverrides ov;
  ov.eos_text = "<|eot_id|>";
  ov.add_bos = 0;
  Vocab v;
  CHECK_OK(load_tokenizer_vocab(l3, ov, &v));
  std::shared_ptr<const Tokenizer> plain;
  CHECK_OK(load_tokenizer_file(l3, &plain));
  CHECK(v.model == "gpt2" && v.size() == 128256 && v.bos_id == 128000 && v.eos_id == 128009 && !v.add_bos);
  CHECK(v.tokenizer && v.tokenizer->eos_id() == 128009 && v.token_bytes(128009).empty());
  CHECK(plain && v.tokenizer->encode(kText, true) == plain->encode(kText, true));
  CHECK(v.pieces[128006] == "<|start_header_id|>" && v.token_bytes(9906) == plain->token_bytes(9906));
  Vocab s;
  ov = TokenizerOverrides();
  ov.bos_id = 2;
  CHECK_OK(load_tokenizer_vocab(l2, ov, &s));
  CHECK(s.model == "llama" && s.size() == 32000 && s.bos_id == 2 && s.eos_id == 2 && s.tokenizer->encode("Hi", true).at(0) == 2);
}

// Llama 3's tiktoken ranks as an HF tokenizer.json (byte-to-unicode vocabulary, merges taken
// from the ranks: every split of a token into two tokens, at the token's rank, as HF's converter
// does) must tokenize llama.cpp's 46 vectors exactly as the tiktoken file; prints load times.
static void test_llama3_tokenizer_json(const std::string& root) {
  const std::string model = root + "/tokenizers/llama3/tokenizer.model";
  const std::string inp = root + "/tokenizers/llamacpp-vectors/ggml-vocab-llama-bpe.gguf.inp";
  if (!pdtest::file_exists(model) || !pdtest::file_exists(inp)) return;
  std::string text;
  CHECK_OK(read_file(model, &text));
  std::vector<std::string> ranked;
  CHECK(bpe_parse_tiktoken(text, model, &ranked).ok());
  std::unordered_map<std::string, int32_t> rank;
  for (size_t i = 0; i < ranked.size(); i++) rank.emplace(ranked[i], (int32_t)i);
  std::string vocab, merges;
  for (size_t i = 0; i < ranked.size(); i++) {
    const std::string& t = ranked[i];
    vocab += (i ? "," : "") + json_quote(gpt2_bytes_to_text(t)) + ":" + std::to_string(i);
    std::vector<std::pair<int32_t, size_t>> splits;  // (left rank, split) so merges of one token are ordered
    for (size_t k = 1; k < t.size(); k++) {
      auto l = rank.find(t.substr(0, k));
      if (l != rank.end() && rank.count(t.substr(k))) splits.push_back({l->second, k});
    }
    std::sort(splits.begin(), splits.end());
    for (const auto& sp : splits)
      merges += std::string(merges.empty() ? "" : ",") +
                json_quote(gpt2_bytes_to_text(t.substr(0, sp.second)) + " " + gpt2_bytes_to_text(t.substr(sp.second)));
  }
  std::string added;
  for (const BpeSpecialToken& sp : bpe_llama3_special_tokens((int32_t)ranked.size()))
    added += std::string(added.empty() ? "" : ",") + "{\"id\":" + std::to_string(sp.id) + ",\"content\":" +
             json_quote(sp.text) + ",\"special\":true}";
  const std::string json = "{\"added_tokens\":[" + added + "],\"model\":{\"type\":\"BPE\",\"ignore_merges\":true,"
                           "\"vocab\":{" + vocab + "},\"merges\":[" + merges + "]}}";
  const std::string path = hftest::tmp_root() + "/llama3-tokenizer.json";
  CHECK(hftest::write_text(path, json));

  auto t0 = std::chrono::steady_clock::now();
  Vocab from_json;
  CHECK_OK(load_tokenizer_vocab(path, TokenizerOverrides(), &from_json));
  auto t1 = std::chrono::steady_clock::now();
  Vocab from_tiktoken;
  CHECK_OK(load_tokenizer_vocab(model, TokenizerOverrides(), &from_tiktoken));
  auto t2 = std::chrono::steady_clock::now();
  if (!from_json.tokenizer || !from_tiktoken.tokenizer) return;
  CHECK(from_json.size() == 128256 && from_json.bos_id == 128000 && from_json.eos_id == 128001);
  CHECK(from_json.tokenizer->eot_id() == 128009);
  std::string cases;
  CHECK_OK(read_file(inp, &cases));
  const std::string sep = "\n__ggml_vocab_test__\n";
  int n = 0, same = 0;
  for (size_t at = 0; at < cases.size();) {
    size_t end = cases.find(sep, at);
    if (end == std::string::npos) end = cases.size();
    const std::string c = cases.substr(at, end - at);
    at = end + sep.size();
    n++;
    const std::vector<int32_t> a = from_json.tokenizer->encode(c, false), b = from_tiktoken.tokenizer->encode(c, false);
    same += a == b;
    CHECK_MSG(a == b, "llama3 tokenizer.json vs tiktoken differ on case %d", n);
    CHECK(from_json.tokenizer->decode(a) == c);
  }
  CHECK(n == 46);
  const double ms_json = std::chrono::duration<double, std::milli>(t1 - t0).count();
  const double ms_tik = std::chrono::duration<double, std::milli>(t2 - t1).count();
  std::printf("Llama 3 tokenizer.json (%.1f MB, %zu merges listed): %d/%d vectors as tiktoken; load %.0f ms "
              "(tiktoken tokenizer.model %.0f ms)\n", json.size() / 1e6, (size_t)std::count(merges.begin(), merges.end(), ',') + 1,
              same, n, ms_json, ms_tik);
}

static void test_rope_scaling(const std::string& data) {
  HfConfig h;
  const std::string base = "{\"architectures\":[\"MistralForCausalLM\"],\"hidden_size\":2048,\"intermediate_size\":8192,"
                           "\"num_hidden_layers\":16,\"num_attention_heads\":32,\"num_key_value_heads\":8,"
                           "\"vocab_size\":128256,\"rope_theta\":500000.0";
  CHECK_OK(parse_hf_config(base + ",\"rope_scaling\":{\"type\":\"linear\",\"factor\":4.0}}", "c.json", &h));
  CHECK(h.config.rope_linear_factor == 4.0f && !h.llama3_rope && h.config.rms_eps == 1e-6f);
  CHECK(h.config.context_length == 2048 && !h.config.tied_embeddings && h.architecture == "MistralForCausalLM");
  CHECK_OK(parse_hf_config(base + ",\"max_position_embeddings\":32768,\"sliding_window\":4096}", "c.json", &h));
  CHECK(h.config.context_length == 4096 && h.config.rope_linear_factor == 1.0f);
  CHECK_OK(parse_hf_config(base + ",\"max_position_embeddings\":32768,\"sliding_window\":null}", "c.json", &h));
  CHECK(h.config.context_length == 32768);
  Status st = parse_hf_config(base + ",\"rope_theta\":nan}", "c.json", &h);
  CHECK(st.code() == ErrorCode::BadModelFile && st.message().find("c.json") != std::string::npos);
  st = parse_hf_config(base + ",\"attention_bias\":true}", "c.json", &h);
  CHECK(st.code() == ErrorCode::Unsupported && st.message().find("attention_bias") != std::string::npos);
  CHECK_OK(parse_hf_config(base + ",\"rope_scaling\":{\"rope_type\":\"llama3\",\"factor\":32.0,\"low_freq_factor\":1.0,"
                                  "\"high_freq_factor\":4.0,\"original_max_position_embeddings\":8192}}", "c.json", &h));
  CHECK(h.llama3_rope && h.config.rope_linear_factor == 1.0f);
  // Against the factors the synthetic Llama-3.2-1B GGUF carries (same scaling, written independently).
  const std::vector<float> f = llama3_rope_factors(h);
  SynthShape shape;
  CHECK_OK(synth_shape_by_name("llama-3.2-1b", &shape));
  shape.layers = 1;
  shape.vocab = 300;
  shape.dim = 2048;
  shape.hidden = 64;
  const std::string path = hftest::tmp_root() + "/rope.gguf";
  CHECK_OK(write_synthetic_gguf(path, shape, SynthType::F32, 1));
  LoadOptions info;
  info.info_only = true;
  std::shared_ptr<Model> g;
  CHECK_OK(load_model(path, info, &g));
  if (g && !g->weights.rope_freqs.empty()) {
    const float* want = (const float*)g->weights.rope_freqs.data;
    CHECK((int64_t)f.size() == g->weights.rope_freqs.ne[0]);
    double worst = 0;
    for (size_t i = 0; i < f.size(); i++) worst = std::max(worst, std::fabs(f[i] - want[i]) / (double)want[i]);
    CHECK_MSG(worst < 1e-5, "llama3 rope factors differ from the synthetic GGUF's by %g (relative)", worst);
    CHECK(f.front() == 1.0f && f.back() == 32.0f);
  }
  std::remove(path.c_str());
  (void)data;
}

// A stories15m-shape model (F32, 6 layers, 32,000 tokens) as GGUF and as a 2-shard HF folder
// with tokenizer.json gives the same logits. (Load time is measured by the bench, not here.)
static void test_sharded_matches_gguf() {
  SynthShape shape;
  CHECK_OK(synth_shape_by_name("stories15m", &shape));
  const std::string gguf = hftest::tmp_root() + "/15m.gguf";
  CHECK_OK(write_synthetic_gguf(gguf, shape, SynthType::F32, 7));
  std::shared_ptr<Model> g = load(gguf);
  if (!g) return;
  const std::string dir = hftest::fresh_dir("15m");
  hftest::WriteOptions o;
  o.shards = 2;
  o.norms_f32 = true;
  CHECK(hftest::write_hf_folder(*g, dir, o));
  std::vector<int32_t> ids = {1, 300, 301, 302, 5000, 17, 31999};
  std::shared_ptr<Model> h = load(dir);
  if (!h) return;
  CHECK_MSG(max_abs_diff(forced_logits(h, ids), forced_logits(g, ids)) == 0.0, "stories15m: HF logits differ from GGUF's");
  std::remove(gguf.c_str());
}

int main(int argc, char** argv) {
  const std::string root = pdtest::testdata_root(argc, argv);
  const std::string data = root + "/models/stories260K/";
  if (!pdtest::file_exists(data + "stories260K.bin") || !pdtest::file_exists(data + "tok512.bin")) {
    std::printf("stories260K not found under '%s': skipping\n", data.c_str());
    return pdtest::kSkip;
  }
  test_stories260k(data);
  test_side_files(data);
  test_tokenizer_model(root);
  test_llama3_tokenizer_json(root);
  test_rope_scaling(data);
  test_sharded_matches_gguf();
  hftest::remove_tmp_root();
  return pdtest::finish("test_hf_checkpoint");
}
