// llama2.c checkpoints (karpathy/llama2.c). Two layouts:
//  - legacy: 7 x int32 header (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size,
//    seq_len; negative vocab_size = separate classifier), then fp32 token_embedding, rms_att,
//    wq, wk, wv, wo, rms_ffn, w1, w2, w3, rms_final, freq_cis_real, freq_cis_imag, [wcls];
//  - version 1: 256-byte header (magic "ak42", version 1, the 7 ints, uint8 shared_classifier),
//    then fp32 rms_att, rms_ffn, rms_final, tok_embeddings, wq, wk, wv, wo, w1, w2, w3, [wcls].
// Each tensor holds all layers back to back; views into the mapping give per-layer tensors
// under their GGUF names. Weights use Meta's interleaved RoPE pairs, as GGUF llama does.
#include <cstring>

#include "io/mapped_file.h"
#include "io/model_loader.h"

namespace paddock {

static constexpr uint32_t kLlama2cMagic = 0x616b3432;  // "ak42"

namespace {

struct Header {
  int32_t dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
};

// Hands out consecutive fp32 tensors from the data section.
struct Walker {
  const float* p;
  const float* take(uint64_t n) {
    const float* r = p;
    p += n;
    return r;
  }
};

uint64_t expected_floats(const LlamaConfig& c, int version) {
  const uint64_t dim = c.dim, hid = c.hidden_dim, L = c.n_layers, kv = c.kv_dim(), voc = c.vocab_size;
  uint64_t n = voc * dim + L * dim * 2 + dim            // embeddings, rms_att, rms_ffn, rms_final
               + L * (dim * dim * 2 + dim * kv * 2)     // wq, wo, wk, wv
               + L * hid * dim * 3;                     // w1, w2, w3
  if (version == 0) n += (uint64_t)c.context_length * c.head_dim();  // freq_cis_real + imag
  if (!c.tied_embeddings) n += voc * dim;
  return n;
}

}  // namespace

Status load_llama2c(std::shared_ptr<MappedFile> file, const LoadOptions& opts, Model* m) {
  const uint8_t* d = file->data();
  const size_t size = file->size();
  const char* path = file->path().c_str();
  Header h;
  int version = 0;
  size_t header_bytes = sizeof(Header);
  bool shared = true;
  uint32_t magic = 0;
  if (size >= 4) std::memcpy(&magic, d, 4);
  if (magic == kLlama2cMagic) {
    if (size < 256) {
      return PD_ERROR(BadModelFile, "%s: expected a 256-byte llama2.c version header, found a file of %zu bytes", path, size);
    }
    int32_t v;
    std::memcpy(&v, d + 4, 4);
    if (v == 2) return PD_ERROR(Unsupported, "%s: llama2.c export version 2 (int8 Q8_0) is not supported yet", path);
    if (v != 1) return PD_ERROR(BadModelFile, "%s: expected llama2.c export version 1, found version %d", path, v);
    std::memcpy(&h, d + 8, sizeof h);
    shared = d[8 + sizeof h] != 0;
    version = 1;
    header_bytes = 256;
  } else {
    if (size < sizeof h) {
      return PD_ERROR(BadModelFile, "%s: not a model file: expected a GGUF file (magic 'GGUF') or a llama2.c checkpoint "
                      "(28-byte header), found only %zu bytes", path, size);
    }
    std::memcpy(&h, d, sizeof h);
    shared = h.vocab_size > 0;
  }
  LlamaConfig& c = m->config;
  c.dim = h.dim;
  c.hidden_dim = h.hidden_dim;
  c.n_layers = h.n_layers;
  c.n_heads = h.n_heads;
  c.n_kv_heads = h.n_kv_heads;
  c.vocab_size = h.vocab_size < 0 ? -(int64_t)h.vocab_size : h.vocab_size;
  c.context_length = h.seq_len;
  c.tied_embeddings = shared;
  c.rope_theta = 10000.0f;
  c.rms_eps = 1e-5f;
  Status valid = c.validate(path);
  if (!valid.ok()) {
    if (version == 0) {
      return PD_ERROR(BadModelFile, "%s: not a model file Paddock knows: expected a GGUF file (magic 'GGUF') or a "
                      "llama2.c checkpoint, found bytes %02x %02x %02x %02x (as a llama2.c header: %s)", path, d[0], d[1],
                      d[2], d[3], valid.message().c_str() + std::strlen(path) + 2);
    }
    return valid;
  }
  const uint64_t want = header_bytes + 4 * expected_floats(c, version);
  if (want != size) {
    return PD_ERROR(BadModelFile, "%s: expected %llu bytes for a llama2.c checkpoint (version %d) with dim=%lld "
                    "hidden_dim=%lld layers=%lld heads=%lld kv_heads=%lld vocab=%lld seq_len=%lld %s, found %zu%s", path,
                    (unsigned long long)want, version, (long long)c.dim, (long long)c.hidden_dim, (long long)c.n_layers,
                    (long long)c.n_heads, (long long)c.n_kv_heads, (long long)c.vocab_size, (long long)c.context_length,
                    shared ? "(shared classifier)" : "(separate classifier)", size,
                    size < want ? " (truncated)" : "");
  }

  const int64_t dim = c.dim, hid = c.hidden_dim, L = c.n_layers, kv = c.kv_dim(), voc = c.vocab_size;
  Walker w{(const float*)(d + header_bytes)};
  const float *emb, *rms_att, *rms_ffn, *rms_final, *wq, *wk, *wv, *wo, *w1, *w2, *w3, *wcls = nullptr;
  if (version == 0) {
    emb = w.take(voc * dim);
    rms_att = w.take(L * dim);
    wq = w.take(L * dim * dim);
    wk = w.take(L * kv * dim);
    wv = w.take(L * kv * dim);
    wo = w.take(L * dim * dim);
    rms_ffn = w.take(L * dim);
    w1 = w.take(L * hid * dim);
    w2 = w.take(L * dim * hid);
    w3 = w.take(L * hid * dim);
    rms_final = w.take(dim);
    w.take((uint64_t)c.context_length * c.head_dim());  // freq_cis_real, freq_cis_imag: recomputed
  } else {
    rms_att = w.take(L * dim);
    rms_ffn = w.take(L * dim);
    rms_final = w.take(dim);
    emb = w.take(voc * dim);
    wq = w.take(L * dim * dim);
    wk = w.take(L * kv * dim);
    wv = w.take(L * kv * dim);
    wo = w.take(L * dim * dim);
    w1 = w.take(L * hid * dim);
    w2 = w.take(L * dim * hid);
    w3 = w.take(L * hid * dim);
  }
  if (!shared) wcls = w.take(voc * dim);

  LlamaWeights& W = m->weights;
  W.tok_embd = make_tensor("token_embd.weight", DType::F32, emb, dim, voc);
  W.output_norm = make_tensor("output_norm.weight", DType::F32, rms_final, dim);
  if (wcls) W.output = make_tensor("output.weight", DType::F32, wcls, dim, voc);
  W.layers.resize((size_t)L);
  for (int64_t l = 0; l < L; l++) {
    LlamaLayer& y = W.layers[(size_t)l];
    const std::string p = "blk." + std::to_string(l) + ".";
    y.attn_norm = make_tensor(p + "attn_norm.weight", DType::F32, rms_att + l * dim, dim);
    y.wq = make_tensor(p + "attn_q.weight", DType::F32, wq + l * dim * dim, dim, dim);
    y.wk = make_tensor(p + "attn_k.weight", DType::F32, wk + l * kv * dim, dim, kv);
    y.wv = make_tensor(p + "attn_v.weight", DType::F32, wv + l * kv * dim, dim, kv);
    y.wo = make_tensor(p + "attn_output.weight", DType::F32, wo + l * dim * dim, dim, dim);
    y.ffn_norm = make_tensor(p + "ffn_norm.weight", DType::F32, rms_ffn + l * dim, dim);
    y.w_gate = make_tensor(p + "ffn_gate.weight", DType::F32, w1 + l * hid * dim, dim, hid);
    y.w_down = make_tensor(p + "ffn_down.weight", DType::F32, w2 + l * dim * hid, hid, dim);
    y.w_up = make_tensor(p + "ffn_up.weight", DType::F32, w3 + l * hid * dim, dim, hid);
  }
  PD_TRY(check_llama_weights(c, W, path));
  summarize_weights(m);
  m->name = file_stem(file->path());
  m->metadata.push_back({"general.architecture", MetaValue{MetaValue::String, 0, "llama", false}});
  m->metadata.push_back({"llama2c.version", MetaValue{MetaValue::Number, (double)version, "", false}});
  m->metadata.push_back({"llama2c.shared_classifier", MetaValue{MetaValue::Bool, 0, "", shared}});

  if (opts.tokenizer_path.empty()) {
    if (!opts.info_only) {
      return PD_ERROR(InvalidArgument, "%s is a llama2.c checkpoint: it needs its tokenizer.bin (tokenizerPath)", path);
    }
    m->has_vocab = false;
    m->vocab.pieces.clear();
  } else {
    PD_TRY(read_llama2c_tokenizer(opts.tokenizer_path, voc, &m->vocab));
  }
  return Status();
}

Status read_llama2c_tokenizer(const std::string& path, int64_t vocab_size, Vocab* vocab) {
  std::string data;
  PD_TRY(read_file(path, &data));
  const char* p = path.c_str();
  size_t pos = 0;
  auto read32 = [&](void* dst) {
    if (data.size() - pos < 4) return false;
    std::memcpy(dst, data.data() + pos, 4);
    pos += 4;
    return true;
  };
  int32_t max_len = 0;
  if (!read32(&max_len) || max_len <= 0 || max_len > 65536) {
    return PD_ERROR(BadModelFile, "%s: not a llama2.c tokenizer: expected a max token length in 1..65536, found %d", p, max_len);
  }
  Vocab v;
  v.pieces.reserve((size_t)vocab_size);
  v.scores.reserve((size_t)vocab_size);
  for (int64_t i = 0; i < vocab_size; i++) {
    float score;
    int32_t len;
    if (!read32(&score) || !read32(&len)) {
      return PD_ERROR(BadModelFile, "%s: expected %lld tokens (the model's vocab_size), found %lld: the file is truncated "
                      "or belongs to another model", p, (long long)vocab_size, (long long)i);
    }
    if (len < 0 || len > max_len || (size_t)len > data.size() - pos) {
      return PD_ERROR(BadModelFile, "%s: token %lld claims %d bytes (max token length %d, %zu bytes left)", p,
                      (long long)i, len, max_len, data.size() - pos);
    }
    std::string piece = data.substr(pos, (size_t)len);
    pos += (size_t)len;
    // llama2.c's export wrote "▁" as a space and BOS/EOS as "\n<s>\n" / "\n</s>\n".
    if (i == 1 && piece == "\n<s>\n") piece = "<s>";
    if (i == 2 && piece == "\n</s>\n") piece = "</s>";
    std::string sp;
    for (char ch : piece) {
      if (ch == ' ') {
        sp += "\xE2\x96\x81";
      } else {
        sp += ch;
      }
    }
    int32_t type = kTokenNormal;
    if (i == 0) {
      type = kTokenUnknown;
    } else if (i == 1 || i == 2) {
      type = kTokenControl;
    } else if (sp.size() == 6 && sp.compare(0, 3, "<0x") == 0 && sp[5] == '>') {
      type = kTokenByte;
    }
    v.pieces.push_back(std::move(sp));
    v.scores.push_back(score);
    v.types.push_back(type);
  }
  if (pos != data.size()) {
    return PD_ERROR(BadModelFile, "%s: expected exactly %lld tokens (the model's vocab_size), but %zu bytes follow them: "
                    "is this the tokenizer of another model?", p, (long long)vocab_size, data.size() - pos);
  }
  v.bos_id = 1;
  v.eos_id = 2;
  v.unk_id = 0;
  v.add_bos = true;
  PD_TRY(v.finalize(path));
  *vocab = std::move(v);
  return Status();
}

}  // namespace paddock
