// GGUF writer -> reader round trips: key/values and tensors survive; a model exported as F32
// gives bit-identical logits to the model it came from (synthetic, and stories260K from its
// llama2.c files when the test data is present); F16 export stores fp16-rounded matrices and
// F32 norms.
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "io/gguf.h"
#include "io/model_export.h"
#include "io/model_loader.h"
#include "io/synthetic_gguf.h"
#include "model/llama_context.h"
#include "synthetic_model.h"
#include "testing.h"

using namespace paddock;

static std::vector<float> run_logits(std::shared_ptr<Model> m, const std::vector<int32_t>& toks, int threads) {
  std::unique_ptr<LlamaContext> ctx;
  Status st = LlamaContext::create(m, 0, threads, &ctx);
  CHECK_OK(st);
  std::vector<float> logits;
  if (ctx) CHECK_OK(ctx->decode(toks.data(), (int64_t)toks.size(), &logits));
  return logits;
}

static bool same_tensor_bits(const Tensor& a, const Tensor& b) {
  return a.type == b.type && a.nbytes == b.nbytes && a.n_dims == b.n_dims && a.ne[0] == b.ne[0] && a.ne[1] == b.ne[1] &&
         std::memcmp(a.data, b.data, a.nbytes) == 0;
}

static void test_kv_roundtrip() {
  GgufWriter w;
  w.set_string("a.string", "héllo");
  w.set_u32("a.u32", 4000000000u);
  w.set_i32("a.i32", -5);
  w.set_f32("a.f32", 0.25f);
  w.set_bool("a.bool", true);
  w.set_u64("a.u64", 1ull << 40);
  w.set_string_array("a.strs", {"x", "", "yz"});
  w.set_f32_array("a.f32s", {1.0f, -2.0f});
  w.set_i32_array("a.i32s", {7, -8, 9});
  w.set_u32("a.u32", 17u);  // replaced in place
  std::vector<float> t1 = {1, 2, 3, 4, 5, 6};
  w.add_tensor("t1", DType::F32, {3, 2}, t1.data(), DType::F32);
  w.add_tensor("t1.f16", DType::F16, {3, 2}, t1.data(), DType::F32);
  std::vector<uint8_t> bytes;
  CHECK_OK(w.write_to_memory(&bytes));
  GgufFile g;
  CHECK_OK(gguf_parse(bytes.data(), bytes.size(), "mem.gguf", &g));
  CHECK(g.version == 3 && g.kvs.size() == 9 && g.tensors.size() == 2);
  bool found = false;
  std::string s;
  uint64_t u = 0;
  int64_t i = 0;
  float f = 0;
  bool b = false;
  std::vector<std::string> strs;
  std::vector<float> fs;
  std::vector<int32_t> is;
  CHECK_OK(g.get_string("a.string", &s, &found));
  CHECK(found && s == "héllo");
  CHECK_OK(g.get_u64("a.u32", &u, &found));
  CHECK(u == 17);
  CHECK_OK(g.get_i64("a.i32", &i, &found));
  CHECK(i == -5);
  CHECK_OK(g.get_f32("a.f32", &f, &found));
  CHECK(f == 0.25f);
  CHECK_OK(g.get_bool("a.bool", &b, &found));
  CHECK(b);
  CHECK_OK(g.get_u64("a.u64", &u, &found));
  CHECK(u == (1ull << 40));
  CHECK_OK(g.get_string_array("a.strs", &strs, &found));
  CHECK((strs == std::vector<std::string>{"x", "", "yz"}));
  CHECK_OK(g.get_f32_array("a.f32s", &fs, &found));
  CHECK((fs == std::vector<float>{1.0f, -2.0f}));
  CHECK_OK(g.get_i32_array("a.i32s", &is, &found));
  CHECK((is == std::vector<int32_t>{7, -8, 9}));
  CHECK(!g.get_u64("a.string", &u, &found).ok());  // wrong type is an error, not a crash
  CHECK_OK(g.get_u64("missing", &u, &found));
  CHECK(!found);
  const GgufTensorInfo* ti = g.find_tensor("t1");
  CHECK(ti && ti->ne[0] == 3 && ti->ne[1] == 2 && ti->offset % 32 == 0 && g.data_offset % 32 == 0);
  if (ti) CHECK(std::memcmp(g.tensor_data(*ti), t1.data(), 24) == 0);
  const GgufTensorInfo* th = g.find_tensor("t1.f16");
  if (th) {
    const uint16_t* h = (const uint16_t*)g.tensor_data(*th);
    CHECK(th->type == DType::F16 && fp16_to_fp32(h[5]) == 6.0f);
  }
}

static std::string tmp_path(const char* name) { return std::string("./") + name; }

static void test_model_roundtrip(std::shared_ptr<Model> a, const std::vector<int32_t>& toks, const char* tag) {
  const std::string f32 = tmp_path("roundtrip.f32.gguf"), f16 = tmp_path("roundtrip.f16.gguf");
  CHECK_OK(export_gguf(*a, f32, DType::F32));
  CHECK_OK(export_gguf(*a, f16, DType::F16));
  std::shared_ptr<Model> b, h;
  CHECK_OK(load_model(f32, LoadOptions(), &b));
  CHECK_OK(load_model(f16, LoadOptions(), &h));
  if (!b || !h) return;
  CHECK_MSG(b->format == ModelFormat::GGUF && b->name == a->name, "%s: name %s vs %s", tag, b->name.c_str(), a->name.c_str());
  const LlamaConfig &ca = a->config, &cb = b->config;
  CHECK(ca.dim == cb.dim && ca.hidden_dim == cb.hidden_dim && ca.n_layers == cb.n_layers && ca.n_heads == cb.n_heads &&
        ca.n_kv_heads == cb.n_kv_heads && ca.vocab_size == cb.vocab_size && ca.context_length == cb.context_length &&
        ca.rope_theta == cb.rope_theta && ca.rms_eps == cb.rms_eps && ca.tied_embeddings == cb.tied_embeddings);
  CHECK(a->vocab.pieces == b->vocab.pieces && a->vocab.scores == b->vocab.scores && a->vocab.types == b->vocab.types);
  CHECK(a->vocab.bos_id == b->vocab.bos_id && a->vocab.eos_id == b->vocab.eos_id && b->vocab.add_bos);
  std::vector<const Tensor*> ta, tb, th;
  for_each_weight(a->weights, [&](const Tensor& t) { ta.push_back(&t); });
  for_each_weight(b->weights, [&](const Tensor& t) { tb.push_back(&t); });
  for_each_weight(h->weights, [&](const Tensor& t) { th.push_back(&t); });
  CHECK(ta.size() == tb.size() && ta.size() == th.size());
  for (size_t i = 0; i < ta.size() && i < tb.size() && i < th.size(); i++) {
    CHECK_MSG(ta[i]->name == tb[i]->name && same_tensor_bits(*ta[i], *tb[i]), "%s: tensor %s differs", tag,
              ta[i]->name.c_str());
    const Tensor& t16 = *th[i];
    if (t16.n_dims == 1) {
      CHECK_MSG(t16.type == DType::F32 && same_tensor_bits(*ta[i], t16), "%s: norm %s not kept F32", tag, t16.name.c_str());
    } else {
      bool ok = t16.type == DType::F16;
      const float* src = (const float*)ta[i]->data;
      const uint16_t* dst = (const uint16_t*)t16.data;
      for (int64_t k = 0; ok && k < t16.nelements(); k++) ok = dst[k] == fp32_to_fp16(src[k]);
      CHECK_MSG(ok, "%s: F16 tensor %s is not the rounded F32 tensor", tag, t16.name.c_str());
    }
  }
  // BF16 matrices run too (not offered by writeGguf yet, but read from other tools' files)
  const std::string bf = tmp_path("roundtrip.bf16.gguf");
  CHECK_OK(export_gguf(*a, bf, DType::BF16));
  std::shared_ptr<Model> bm;
  CHECK_OK(load_model(bf, LoadOptions(), &bm));
  if (bm) CHECK(bm->tensor_type == "BF16" && bm->weights.layers[0].wq.type == DType::BF16);
  std::vector<float> lbf = bm ? run_logits(bm, toks, 2) : std::vector<float>();
  std::remove(bf.c_str());
  std::vector<float> la = run_logits(a, toks, 2), lb = run_logits(b, toks, 2), lh = run_logits(h, toks, 2);
  CHECK_MSG(!la.empty() && la.size() == lb.size() && std::memcmp(la.data(), lb.data(), la.size() * 4) == 0,
            "%s: logits of the F32 GGUF are not bit-identical", tag);
  double max_d = 0, max_a = 0;
  for (size_t i = 0; i < la.size() && i < lh.size(); i++) {
    max_d = std::max(max_d, (double)std::fabs(la[i] - lh[i]));
    max_a = std::max(max_a, (double)std::fabs(la[i]));
  }
  std::printf("%s: F16 export max |logit diff| %.4g (max |logit| %.3g)\n", tag, max_d, max_a);
  CHECK_MSG(max_d < 0.05 * (1.0 + max_a), "%s: F16 logits too far from F32: %g", tag, max_d);
  double max_bf = 0;
  for (size_t i = 0; i < la.size() && i < lbf.size(); i++) max_bf = std::max(max_bf, (double)std::fabs(la[i] - lbf[i]));
  std::printf("%s: BF16 export max |logit diff| %.4g\n", tag, max_bf);
  CHECK_MSG(lbf.size() == la.size() && max_bf < 0.2 * (1.0 + max_a), "%s: BF16 logits too far from F32: %g", tag, max_bf);
  std::remove(f32.c_str());
  std::remove(f16.c_str());
}

// A tensor type the CPU cannot run, another architecture: UNSUPPORTED naming the tensor, type
// and file; readModelInfo (info_only) still reports the file.
static void test_refusals() {
  const std::string path = tmp_path("refuse.gguf");
  {
    pdtest::SyntheticModel syn;
    syn.dim = 64;
    syn.odd_tensor = "blk.1.attn_q.weight";
    syn.odd_type = DType::Q5_0;  // no CPU kernel (Q8_0 and the other common quant types run)
    GgufWriter w;
    syn.fill(w);
    CHECK_OK(w.write_file(path));
  }
  std::shared_ptr<Model> m;
  Status st = load_model(path, LoadOptions(), &m);
  CHECK_MSG(st.code() == ErrorCode::Unsupported && st.message().find("blk.1.attn_q.weight") != std::string::npos &&
                st.message().find("Q5_0") != std::string::npos && st.message().find(path) != std::string::npos,
            "%s", st.to_string().c_str());
  LoadOptions info;
  info.info_only = true;
  CHECK_OK(load_model(path, info, &m));
  {
    pdtest::SyntheticModel syn;
    syn.arch = "qwen2";
    GgufWriter w;
    syn.fill(w);
    CHECK_OK(w.write_file(path));
  }
  st = load_model(path, LoadOptions(), &m);
  CHECK_MSG(st.code() == ErrorCode::Unsupported && st.message().find("qwen2") != std::string::npos &&
                st.message().find(path) != std::string::npos,
            "%s", st.to_string().c_str());
  std::remove(path.c_str());
}

static std::string chat_template_of(const Model& m) {
  for (const auto& [key, value] : m.metadata)
    if (key == "tokenizer.chat_template") return value.string;
  return "";
}

// Llama 3's vocabulary (resources/tokenizers, shipped in the repo) on a tiny synthetic model:
// exported, it must come back as the same byte-level BPE, not as a SentencePiece "llama" vocab.
static void test_bpe_vocab_export() {
  std::string here = __FILE__;
  const std::string dir = here.substr(0, here.rfind("/native/tests/")) + "/resources/tokenizers";
  if (!pdtest::file_exists(dir + "/llama3/tokenizer.model")) {
    std::printf("%s/llama3/tokenizer.model not found: skipping the Llama 3 vocabulary export\n", dir.c_str());
    return;
  }
  const std::string src = tmp_path("llama3-vocab.gguf"), out = tmp_path("llama3-vocab.export.gguf");
  SynthShape s{"tiny-llama3", 64, 128, 2, 4, 2, 128256, 256, true, 500000.0f, true, SynthVocabKind::Llama3};
  CHECK_OK(write_synthetic_gguf(src, s, SynthType::F32, 3, dir));
  std::shared_ptr<Model> a, b;
  CHECK_OK(load_model(src, LoadOptions(), &a));
  if (a) CHECK_OK(export_gguf(*a, out, DType::F32));
  CHECK_OK(load_model(out, LoadOptions(), &b));
  if (a && b) {
    const Vocab &va = a->vocab, &vb = b->vocab;
    CHECK(va.model == "gpt2" && vb.model == "gpt2" && vb.pre == va.pre && vb.merges == va.merges && !vb.merges.empty());
    CHECK(vb.pieces == va.pieces && vb.types == va.types && vb.bos_id == 128000 && vb.eos_id == va.eos_id &&
          vb.eot_id == va.eot_id && vb.add_bos && !vb.add_space_prefix);
    CHECK(!chat_template_of(*a).empty() && chat_template_of(*b) == chat_template_of(*a));
    CHECK(!b->weights.rope_freqs.empty() && same_tensor_bits(a->weights.rope_freqs, b->weights.rope_freqs));
    const char* text = "Exported models keep their tokenizer: naïve café, 1234567.";
    CHECK(vb.tokenizer->encode(text, true) == va.tokenizer->encode(text, true));
    const std::vector<int32_t> toks = va.tokenizer->encode(text, true);
    std::vector<float> la = run_logits(a, toks, 2), lb = run_logits(b, toks, 2);
    CHECK_MSG(!la.empty() && la == lb, "Llama 3 vocab export: logits differ");
  }
  std::remove(src.c_str());
  std::remove(out.c_str());
}

int main(int argc, char** argv) {
  test_kv_roundtrip();
  test_refusals();
  test_bpe_vocab_export();

  pdtest::SyntheticModel syn;
  GgufWriter w;
  syn.fill(w);
  const std::string path = tmp_path("synthetic.gguf");
  CHECK_OK(w.write_file(path));
  std::shared_ptr<Model> m;
  CHECK_OK(load_model(path, LoadOptions(), &m));
  if (m) test_model_roundtrip(m, {1, 260, 200, 5, 266, 7, 8}, "synthetic");
  std::remove(path.c_str());

  const std::string root = pdtest::testdata_root(argc, argv);
  const std::string bin = root + "/models/stories260K/stories260K.bin", tok = root + "/models/stories260K/tok512.bin";
  if (!pdtest::file_exists(bin) || !pdtest::file_exists(tok)) {
    std::printf("stories260K not found under '%s': skipping the llama2.c round trip\n", root.c_str());
  } else {
    LoadOptions o;
    o.tokenizer_path = tok;
    std::shared_ptr<Model> s;
    CHECK_OK(load_model(bin, o, &s));
    if (s) test_model_roundtrip(s, {1, 403, 407, 261, 378, 282, 13, 3, 44, 511}, "stories260K");
  }
  return pdtest::finish("test_gguf_roundtrip");
}
