// A llama-architecture GGUF -> Model: hyperparameters from llama.*, the SentencePiece vocabulary
// from tokenizer.ggml.*, weights as views into the mapping (copied only when misaligned, and
// norm weights converted to F32 when stored in half precision).
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <thread>

#include "backend/cpu/weight_repack.h"
#include "io/gguf.h"
#include "io/mapped_file.h"
#include "io/model_loader.h"

namespace paddock {

namespace {

MetaValue meta_of(const GgufKV& kv) {
  MetaValue v;
  switch (kv.type) {
    case GgufType::STRING: v.kind = MetaValue::String; v.string = kv.str; break;
    case GgufType::BOOL: v.kind = MetaValue::Bool; v.boolean = kv.u != 0; break;
    case GgufType::ARRAY: v.number = (double)kv.arr_n; break;
    case GgufType::FLOAT32: v.number = f32_as_decimal((float)kv.f); break;
    case GgufType::FLOAT64: v.number = kv.f; break;
    case GgufType::INT8: case GgufType::INT16: case GgufType::INT32: case GgufType::INT64: v.number = (double)kv.i; break;
    default: v.number = (double)kv.u; break;
  }
  return v;
}

Status get_dim(const GgufFile& g, const std::string& key, bool required, int64_t def, int64_t* out) {
  uint64_t v = 0;
  bool found = false;
  PD_TRY(g.get_u64(key, &v, &found));
  if (!found) {
    if (required) return PD_ERROR(BadModelFile, "%s: expected the key '%s', which is missing", g.path.c_str(), key.c_str());
    *out = def;
    return Status();
  }
  *out = v > (uint64_t)INT32_MAX ? (int64_t)INT32_MAX + 1 : (int64_t)v;  // validate() reports the range
  return Status();
}

Status read_i32_key(const GgufFile& g, const char* key, int32_t def, int32_t* out) {
  bool found = false;
  int64_t id = 0;
  PD_TRY(g.get_i64(key, &id, &found));
  *out = found ? (int32_t)std::max<int64_t>(std::min<int64_t>(id, INT32_MAX), -1) : def;
  return Status();
}

Status read_vocab(const GgufFile& g, Vocab* v, bool* has_vocab) {
  bool found = false;
  std::string model;
  PD_TRY(g.get_string("tokenizer.ggml.model", &model, &found));
  if (!found) {
    *has_vocab = false;
    return PD_ERROR(BadModelFile, "%s: expected a tokenizer (tokenizer.ggml.model), found none", g.path.c_str());
  }
  if (model != "llama" && model != "gpt2") {
    *has_vocab = false;
    return PD_ERROR(Unsupported, "%s: tokenizer '%s' is not supported yet (Paddock runs SentencePiece 'llama' and "
                    "byte-level BPE 'gpt2' vocabularies)", g.path.c_str(), model.c_str());
  }
  const bool bpe = model == "gpt2";
  if (bpe) {
    std::string pre;
    PD_TRY(g.get_string("tokenizer.ggml.pre", &pre, &found));
    if (!found || (pre != "llama-bpe" && pre != "llama3")) {
      *has_vocab = false;
      return PD_ERROR(Unsupported, "%s: BPE pre-tokenizer '%s' is not supported (Paddock runs Llama 3's 'llama-bpe')",
                      g.path.c_str(), found ? pre.c_str() : "(tokenizer.ggml.pre missing)");
    }
    v->pre = pre;
  }
  v->model = model;
  PD_TRY(g.get_string_array("tokenizer.ggml.tokens", &v->pieces, &found));
  if (!found) return PD_ERROR(BadModelFile, "%s: expected tokenizer.ggml.tokens, which is missing", g.path.c_str());
  PD_TRY(g.get_f32_array("tokenizer.ggml.scores", &v->scores, &found));
  PD_TRY(g.get_i32_array("tokenizer.ggml.token_type", &v->types, &found));
  if (bpe) {
    PD_TRY(g.get_string_array("tokenizer.ggml.merges", &v->merges, &found));
    if (!found) return PD_ERROR(BadModelFile, "%s: expected tokenizer.ggml.merges (a 'gpt2' vocabulary), which is missing", g.path.c_str());
  }
  PD_TRY(read_i32_key(g, "tokenizer.ggml.bos_token_id", bpe ? 128000 : 1, &v->bos_id));
  PD_TRY(read_i32_key(g, "tokenizer.ggml.eos_token_id", bpe ? 128001 : 2, &v->eos_id));
  PD_TRY(read_i32_key(g, "tokenizer.ggml.unknown_token_id", 0, &v->unk_id));
  PD_TRY(read_i32_key(g, "tokenizer.ggml.eot_token_id", -1, &v->eot_id));
  if (bpe && !v->valid_id(v->unk_id)) v->unk_id = 0;
  if (!v->valid_id(v->eot_id)) v->eot_id = -1;
  bool b = true;
  PD_TRY(g.get_bool("tokenizer.ggml.add_bos_token", &b, &found));
  v->add_bos = found ? b : true;
  PD_TRY(g.get_bool("tokenizer.ggml.add_eos_token", &b, &found));
  v->add_eos = found ? b : false;
  PD_TRY(g.get_bool("tokenizer.ggml.add_space_prefix", &b, &found));
  v->add_space_prefix = found ? b : !bpe;
  PD_TRY(v->finalize(g.path));
  *has_vocab = true;
  return Status();
}

// A view of a GGUF tensor; misaligned data (an odd general.alignment) is copied, half-precision
// norm weights are converted to F32 (the forward reads norms as float).
Status bind_tensor(const GgufFile& g, const GgufTensorInfo& info, bool want_f32, bool info_only, Model* m, Tensor* t) {
  t->name = info.name;
  t->type = info.type;
  t->n_dims = (int)info.n_dims;
  for (int i = 0; i < 4; i++) t->ne[i] = info.ne[i];
  t->data = g.tensor_data(info);
  t->nbytes = info.nbytes;
  if (info_only) return Status();
  const size_t elem = info.type == DType::F32 ? 4 : 2;
  const bool misaligned = ((uintptr_t)t->data % elem) != 0;
  const bool convert = want_f32 && t->type != DType::F32 && dtype_is_float(t->type);
  if (!misaligned && !convert) return Status();
  if (!dtype_is_float(t->type)) return Status();  // reported as UNSUPPORTED by the weight check
  Buffer buf;
  const int64_t n = t->nelements();
  if (convert) {
    PD_TRY(buf.allocate((size_t)n * 4, "a converted norm weight"));
    std::vector<uint8_t> tmp((const uint8_t*)t->data, (const uint8_t*)t->data + t->nbytes);  // aligned copy
    convert_to_f32(t->type, tmp.data(), buf.f32(), n);
    t->type = DType::F32;
    t->nbytes = (size_t)n * 4;
  } else {
    PD_TRY(buf.allocate(t->nbytes, "an aligned copy of a tensor"));
    std::memcpy(buf.data(), t->data, t->nbytes);
  }
  t->data = buf.data();
  m->owned.push_back(std::move(buf));
  return Status();
}

// The matrices the decode matvec reads, repacked into 16-row panels in huge pages
// (backend/cpu/weight_repack.h); PADDOCK_WEIGHT_REPACK=0 keeps the file layout only (A/B timing).
Status repack_weights_for_decode(const MappedFile& file, Model* m) {
  const char* env = std::getenv("PADDOCK_WEIGHT_REPACK");
  if (env && std::strcmp(env, "0") == 0) return Status();
  LlamaWeights& W = m->weights;
  std::vector<Tensor*> ts;
  for (LlamaLayer& y : W.layers)
    for (Tensor* t : {&y.wq, &y.wk, &y.wv, &y.wo, &y.w_gate, &y.w_up, &y.w_down}) ts.push_back(t);
  ts.push_back(W.output.empty() ? &W.tok_embd : &W.output);
  const int threads = (int)std::max(1u, std::thread::hardware_concurrency());
  return repack_for_decode(ts.data(), (int)ts.size(), threads, file.path().c_str(), file.data(), file.size(), &m->owned);
}

}  // namespace

// Declared in infer/tokenizer_files.h: the vocabulary of any GGUF, for tokenizer-only use.
Status read_gguf_vocab(const GgufFile& g, Vocab* v) {
  bool has = false;
  return read_vocab(g, v, &has);
}

Status load_gguf_llama(std::shared_ptr<MappedFile> file, const LoadOptions& opts, Model* m) {
  GgufFile g;
  PD_TRY(gguf_parse(file->data(), file->size(), file->path(), &g));
  const char* path = g.path.c_str();
  for (const GgufKV& kv : g.kvs) m->metadata.push_back({kv.key, meta_of(kv)});

  bool found = false;
  PD_TRY(g.get_string("general.architecture", &m->architecture, &found));
  if (!found) return PD_ERROR(BadModelFile, "%s: expected general.architecture, which is missing", path);
  if (m->architecture != "llama") {
    return PD_ERROR(Unsupported, "%s: architecture '%s' is not supported (Paddock runs 'llama')", path,
                    m->architecture.c_str());
  }
  PD_TRY(g.get_string("general.name", &m->name, &found));
  if (!found || m->name.empty()) m->name = file_stem(g.path);

  LlamaConfig& c = m->config;
  PD_TRY(get_dim(g, "llama.embedding_length", true, 0, &c.dim));
  PD_TRY(get_dim(g, "llama.feed_forward_length", true, 0, &c.hidden_dim));
  PD_TRY(get_dim(g, "llama.block_count", true, 0, &c.n_layers));
  PD_TRY(get_dim(g, "llama.attention.head_count", true, 0, &c.n_heads));
  PD_TRY(get_dim(g, "llama.attention.head_count_kv", false, c.n_heads, &c.n_kv_heads));
  PD_TRY(get_dim(g, "llama.context_length", false, 2048, &c.context_length));
  PD_TRY(g.get_f32("llama.rope.freq_base", &c.rope_theta, &found));
  if (!found) c.rope_theta = 10000.0f;
  PD_TRY(g.get_f32("llama.attention.layer_norm_rms_epsilon", &c.rms_eps, &found));
  if (!found) c.rms_eps = 1e-5f;

  Status vs = read_vocab(g, &m->vocab, &m->has_vocab);
  if (!vs.ok() && !(opts.info_only && !m->has_vocab)) return vs;
  int64_t vocab_key = 0;
  PD_TRY(get_dim(g, "llama.vocab_size", false, 0, &vocab_key));
  const GgufTensorInfo* emb = g.find_tensor("token_embd.weight");
  if (m->has_vocab) {
    c.vocab_size = m->vocab.size();
    if (vocab_key != 0 && vocab_key != c.vocab_size) {
      return PD_ERROR(BadModelFile, "%s: llama.vocab_size is %lld but tokenizer.ggml.tokens holds %lld tokens", path,
                      (long long)vocab_key, (long long)c.vocab_size);
    }
  } else {
    c.vocab_size = vocab_key ? vocab_key : emb ? emb->ne[1] : 0;
  }
  PD_TRY(c.validate(g.path));
  int64_t rope_dims = 0;
  PD_TRY(get_dim(g, "llama.rope.dimension_count", false, c.head_dim(), &rope_dims));
  if (rope_dims != c.head_dim()) {
    return PD_ERROR(Unsupported, "%s: RoPE over %lld of %lld head dimensions (partial rotary) is not supported", path,
                    (long long)rope_dims, (long long)c.head_dim());
  }

  // RoPE scaling: "linear" divides positions by the factor; Llama 3.1's "llama3" travels as
  // rope_freqs.weight. Any other kind would run silently wrong, so it is refused.
  std::string scaling;
  PD_TRY(g.get_string("llama.rope.scaling.type", &scaling, &found));
  float factor = 1.0f;
  bool has_factor = false;
  PD_TRY(g.get_f32("llama.rope.scaling.factor", &factor, &has_factor));
  if (found && scaling == "linear") {
    if (has_factor && !(factor > 0.0f && factor < 1e30f)) {
      return PD_ERROR(BadModelFile, "%s: expected a positive llama.rope.scaling.factor for linear RoPE scaling, "
                      "found %g", path, (double)factor);
    }
    c.rope_linear_factor = has_factor ? factor : 1.0f;
  } else if (found && scaling != "none" && scaling != "llama3" && !(has_factor && factor == 1.0f)) {
    return PD_ERROR(Unsupported, "%s: RoPE scaling '%s' is not supported (Paddock runs 'linear' and 'llama3')", path,
                    scaling.c_str());
  }

  // Parameter count and dominant type over every tensor in the file.
  std::map<std::string, uint64_t> by_type;
  for (const GgufTensorInfo& t : g.tensors) {
    const uint64_t n = (uint64_t)(t.ne[0] * t.ne[1] * t.ne[2] * t.ne[3]);
    m->parameter_count += n;
    if (t.n_dims >= 2) by_type[dtype_name(t.type)] += n;
  }
  uint64_t best = 0;
  for (auto& kv : by_type)
    if (kv.second > best) best = kv.second, m->tensor_type = kv.first;

  if (g.tensors.empty()) {
    m->vocab_only = true;
    return Status();
  }
  c.tied_embeddings = g.find_tensor("output.weight") == nullptr;
  LlamaWeights& W = m->weights;
  auto bind = [&](const std::string& name, bool norm, bool optional, Tensor* t) -> Status {
    const GgufTensorInfo* info = g.find_tensor(name);
    if (!info) {
      if (optional) return Status();
      return PD_ERROR(BadModelFile, "%s: expected the tensor %s, which is missing", path, name.c_str());
    }
    return bind_tensor(g, *info, norm, opts.info_only, m, t);
  };
  PD_TRY(bind("token_embd.weight", false, false, &W.tok_embd));
  PD_TRY(bind("output_norm.weight", true, false, &W.output_norm));
  PD_TRY(bind("output.weight", false, true, &W.output));
  PD_TRY(bind("rope_freqs.weight", true, true, &W.rope_freqs));
  W.layers.resize((size_t)c.n_layers);
  for (int64_t l = 0; l < c.n_layers; l++) {
    LlamaLayer& y = W.layers[(size_t)l];
    const std::string p = "blk." + std::to_string(l) + ".";
    PD_TRY(bind(p + "attn_norm.weight", true, false, &y.attn_norm));
    PD_TRY(bind(p + "attn_q.weight", false, false, &y.wq));
    PD_TRY(bind(p + "attn_k.weight", false, false, &y.wk));
    PD_TRY(bind(p + "attn_v.weight", false, false, &y.wv));
    PD_TRY(bind(p + "attn_output.weight", false, false, &y.wo));
    PD_TRY(bind(p + "ffn_norm.weight", true, false, &y.ffn_norm));
    PD_TRY(bind(p + "ffn_gate.weight", false, false, &y.w_gate));
    PD_TRY(bind(p + "ffn_down.weight", false, false, &y.w_down));
    PD_TRY(bind(p + "ffn_up.weight", false, false, &y.w_up));
  }
  PD_TRY(check_llama_weights(c, W, g.path, !opts.info_only));
  if (opts.info_only) return Status();
  return repack_weights_for_decode(*file, m);
}

}  // namespace paddock
