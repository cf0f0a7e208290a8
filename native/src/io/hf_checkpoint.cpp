#include "io/hf_checkpoint.h"

#include <cstring>
#include <filesystem>
#include <unordered_map>
#include <vector>

#include "infer/tokenizer_files.h"
#include "io/hf_config.h"
#include "io/json_reader.h"
#include "io/mapped_file.h"
#include "io/model_loader.h"
#include "io/safetensors.h"

namespace paddock {

bool is_directory(const std::string& path) {
  std::error_code ec;  // no exceptions: an unreadable path is simply not a folder
  return std::filesystem::is_directory(std::filesystem::u8path(path), ec);
}

void permute_rope_rows(const uint8_t* src, uint8_t* dst, int64_t n_heads, int64_t head_dim, size_t row_bytes,
                       bool inverse) {
  // Within a head, HF row j * half + i (j = 0 for the first halves, 1 for the second) holds
  // what the interleaved layout keeps in row 2 * i + j.
  const int64_t half = head_dim / 2;
  for (int64_t h = 0; h < n_heads; h++) {
    for (int64_t i = 0; i < half; i++) {
      for (int64_t j = 0; j < 2; j++) {
        const int64_t hf_row = h * head_dim + j * half + i, pair_row = h * head_dim + 2 * i + j;
        const int64_t from = inverse ? pair_row : hf_row, to = inverse ? hf_row : pair_row;
        std::memcpy(dst + (size_t)to * row_bytes, src + (size_t)from * row_bytes, row_bytes);
      }
    }
  }
}

namespace {

bool is_file(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(std::filesystem::u8path(path), ec);
}

Status read_json_file(const std::string& path, Json* out) {
  std::string text;
  PD_TRY(read_file(path, &text));
  size_t error_pos = 0;
  if (!parse_json(text, out, &error_pos) || out->kind != Json::Obj) {
    return PD_ERROR(BadModelFile, "%s: expected a JSON object, found malformed JSON (near byte %zu)", path.c_str(), error_pos);
  }
  return Status();
}

// The mapped safetensors files of a checkpoint and where each tensor lives.
struct Shards {
  std::vector<SafetensorsFile> files;
  std::unordered_map<std::string, std::pair<size_t, size_t>> where;  // name -> (file, tensor)
  std::string listing;  // the file that lists the tensors, for messages

  const SafetensorsTensor* find(const std::string& name) const {
    auto it = where.find(name);
    return it == where.end() ? nullptr : &files[it->second.first].tensors[it->second.second];
  }
  const std::string& file_of(const std::string& name) const { return files[where.at(name).first].path(); }
};

Status open_safetensors(const std::string& path, SafetensorsFile* out) {
  std::shared_ptr<MappedFile> file;
  PD_TRY(MappedFile::open(path, &file));
  return safetensors_parse(std::move(file), out);
}

Status open_shards(const std::string& dir, Shards* s) {
  const std::string index = dir + "/model.safetensors.index.json";
  if (!is_file(index)) {
    const std::string single = dir + "/model.safetensors";
    if (!is_file(single)) {
      const bool pickle = is_file(dir + "/pytorch_model.bin") || is_file(dir + "/pytorch_model.bin.index.json");
      return PD_ERROR(BadModelFile, "%s: expected model.safetensors or model.safetensors.index.json in the folder, found "
                      "neither%s", dir.c_str(),
                      pickle ? " (PyTorch pytorch_model.bin checkpoints are not read: save the model as safetensors)" : "");
    }
    s->files.emplace_back();
    PD_TRY(open_safetensors(single, &s->files.back()));
    for (size_t i = 0; i < s->files[0].tensors.size(); i++) s->where[s->files[0].tensors[i].name] = {0, i};
    s->listing = single;
    return Status();
  }
  s->listing = index;
  Json root;
  PD_TRY(read_json_file(index, &root));
  const Json* map = root.get("weight_map");
  if (!map || map->kind != Json::Obj) return PD_ERROR(BadModelFile, "%s: expected a \"weight_map\" object", index.c_str());
  std::unordered_map<std::string, size_t> opened;
  for (const auto& kv : map->o) {
    const std::string& shard = kv.second.s;
    // Shards live beside the index: a path elsewhere is refused rather than followed.
    if (kv.second.kind != Json::Str || shard.empty() || shard.find_first_of("/\\") != std::string::npos || shard == "..") {
      return PD_ERROR(BadModelFile, "%s: tensor %s: expected a shard file name in the folder", index.c_str(), kv.first.c_str());
    }
    auto it = opened.find(shard);
    if (it == opened.end()) {
      const std::string path = dir + "/" + shard;
      if (!is_file(path)) {
        return PD_ERROR(BadModelFile, "%s: the shard %s (holding %s) is missing", index.c_str(), path.c_str(),
                        kv.first.c_str());
      }
      s->files.emplace_back();
      PD_TRY(open_safetensors(path, &s->files.back()));
      it = opened.emplace(shard, s->files.size() - 1).first;
    }
    const SafetensorsFile& f = s->files[it->second];
    const SafetensorsTensor* t = f.find(kv.first);
    if (!t) {
      return PD_ERROR(BadModelFile, "%s: the index places %s in %s, which lacks it", index.c_str(), kv.first.c_str(),
                      f.path().c_str());
    }
    s->where[kv.first] = {it->second, (size_t)(t - f.tensors.data())};
  }
  if (s->files.empty()) return PD_ERROR(BadModelFile, "%s: the weight_map lists no tensors", index.c_str());
  return Status();
}

// Binds checkpoint tensors into Tensor views, converting or copying only where it must.
class Binder {
 public:
  Binder(const Shards& s, bool info_only, Model* m) : s_(s), info_only_(info_only), m_(m) {}

  // A weight used in place (copied only when its data is misaligned for its type).
  Status matrix(const std::string& name, bool optional, Tensor* t) {
    const SafetensorsTensor* st = nullptr;
    PD_TRY(view(name, optional, t, &st));
    if (!st || info_only_ || ((uintptr_t)t->data % (t->type == DType::F32 ? 4 : 2)) == 0) return Status();
    Buffer buf;
    PD_TRY(buf.allocate(t->nbytes, "an aligned copy of a tensor"));
    std::memcpy(buf.data(), t->data, t->nbytes);
    return own(std::move(buf), t);
  }

  // A norm weight, converted to F32 (the forward reads norms as float).
  Status norm(const std::string& name, Tensor* t) {
    const SafetensorsTensor* st = nullptr;
    PD_TRY(view(name, false, t, &st));
    if (info_only_ || t->type == DType::F32) return matrix(name, false, t);
    const int64_t n = t->nelements();
    std::vector<uint8_t> aligned((const uint8_t*)t->data, (const uint8_t*)t->data + t->nbytes);
    Buffer buf;
    PD_TRY(buf.allocate((size_t)n * 4, "a converted norm weight"));
    convert_to_f32(t->type, aligned.data(), buf.f32(), n);
    t->type = DType::F32;
    t->nbytes = (size_t)n * 4;
    return own(std::move(buf), t);
  }

  // q_proj / k_proj: rows permuted into interleaved RoPE order, an owned copy. A misshapen
  // tensor is left as is for check_llama_weights to report.
  Status rope_matrix(const std::string& name, int64_t n_heads, int64_t head_dim, int64_t dim, Tensor* t) {
    const SafetensorsTensor* st = nullptr;
    PD_TRY(view(name, false, t, &st));
    if (info_only_ || t->n_dims != 2 || t->ne[0] != dim || t->ne[1] != n_heads * head_dim) return Status();
    Buffer buf;
    PD_TRY(buf.allocate(t->nbytes, "a RoPE-permuted attention matrix"));
    permute_rope_rows((const uint8_t*)t->data, (uint8_t*)buf.data(), n_heads, head_dim, t->row_bytes());
    return own(std::move(buf), t);
  }

 private:
  Status view(const std::string& name, bool optional, Tensor* t, const SafetensorsTensor** out) {
    const SafetensorsTensor* st = s_.find(name);
    *out = st;
    if (!st) {
      if (optional) return Status();
      return PD_ERROR(BadModelFile, "%s: expected the tensor %s, which is missing", s_.listing.c_str(), name.c_str());
    }
    const char* file = s_.file_of(name).c_str();
    if (!st->is_float) {
      return PD_ERROR(Unsupported, "%s: tensor %s has dtype %s (Paddock reads F32, F16 and BF16 checkpoints)", file,
                      name.c_str(), st->dtype.c_str());
    }
    if (st->shape.empty() || st->shape.size() > 2) {
      return PD_ERROR(BadModelFile, "%s: tensor %s: expected 1 or 2 dimensions, found %zu", file, name.c_str(),
                      st->shape.size());
    }
    t->name = name;
    t->type = st->type;
    t->n_dims = (int)st->shape.size();
    t->ne[0] = st->shape.back();  // [out, in] row-major: ne[0] is the input dimension
    t->ne[1] = st->shape.size() == 2 ? st->shape[0] : 1;
    t->data = st->data;
    t->nbytes = (size_t)st->nbytes;
    return Status();
  }

  Status own(Buffer buf, Tensor* t) {
    t->data = buf.data();
    m_->owned.push_back(std::move(buf));
    return Status();
  }

  const Shards& s_;
  bool info_only_;
  Model* m_;
};

// A special token given as "text" or {"content": "text"} in tokenizer_config.json.
std::string token_text(const Json* j) {
  if (!j) return std::string();
  if (j->kind == Json::Str) return j->s;
  return j->str("content");
}

// tokenizer_config.json's chat_template: a string, or a list of {name, template} ("default" wins).
std::string chat_template(const Json& cfg) {
  const Json* t = cfg.get("chat_template");
  if (!t) return std::string();
  if (t->kind == Json::Str) return t->s;
  std::string first;
  if (t->kind == Json::Arr) {
    for (const Json& e : t->a) {
      if (e.str("name") == "default") return e.str("template");
      if (first.empty()) first = e.str("template");
    }
  }
  return first;
}

MetaValue meta_string(const std::string& s) { return MetaValue{MetaValue::String, 0, s, false}; }
MetaValue meta_number(double v) { return MetaValue{MetaValue::Number, v, "", false}; }

// The vocabulary from the folder's tokenizer, special tokens chosen as the folder's side files
// say; the chat template goes into the metadata (also for readModelInfo without a tokenizer).
Status load_vocab(const std::string& dir, const LoadOptions& opts, const HfConfig& h, Model* m) {
  TokenizerOverrides ov;
  ov.bos_id = h.bos_token_id;
  ov.eos_id = h.eos_token_id;
  const std::string gen = dir + "/generation_config.json", tok = dir + "/tokenizer_config.json";
  if (is_file(gen)) {
    Json g;
    PD_TRY(read_json_file(gen, &g));
    if (hf_token_id(g.get("bos_token_id")) >= 0) ov.bos_id = hf_token_id(g.get("bos_token_id"));
    if (hf_token_id(g.get("eos_token_id")) >= 0) ov.eos_id = hf_token_id(g.get("eos_token_id"));
  }
  std::string tmpl;
  if (is_file(tok)) {
    Json t;
    PD_TRY(read_json_file(tok, &t));
    ov.bos_text = token_text(t.get("bos_token"));
    ov.eos_text = token_text(t.get("eos_token"));
    if (const Json* b = t.get("add_bos_token"); b && b->kind == Json::Bool) ov.add_bos = b->b ? 1 : 0;
    tmpl = chat_template(t);
  }
  if (tmpl.empty() && is_file(dir + "/chat_template.jinja")) PD_TRY(read_file(dir + "/chat_template.jinja", &tmpl));
  if (!tmpl.empty()) m->metadata.push_back({"tokenizer.chat_template", meta_string(tmpl)});

  const std::string path = opts.tokenizer_path.empty() ? find_tokenizer_in_folder(dir) : opts.tokenizer_path;
  if (path.empty()) {
    m->has_vocab = false;
    if (opts.info_only) return Status();
    return PD_ERROR(BadModelFile, "%s: expected tokenizer.json or tokenizer.model in the folder, found neither", dir.c_str());
  }
  PD_TRY(load_tokenizer_vocab(path, ov, &m->vocab));
  m->has_vocab = true;
  Vocab& v = m->vocab;
  if (v.size() > h.config.vocab_size) {
    return PD_ERROR(BadModelFile, "%s: the tokenizer %s holds %lld tokens, more than the model's vocab_size %lld",
                    dir.c_str(), path.c_str(), (long long)v.size(), (long long)h.config.vocab_size);
  }
  if (v.size() < h.config.vocab_size && v.model == "llama") {
    // Embeddings padded beyond the tokenizer (common in fine-tunes): the extra ids become unused
    // tokens, so every id the model can produce has a (empty) text.
    while (v.size() < h.config.vocab_size) {
      v.pieces.push_back("<pad_" + std::to_string(v.size()) + ">");
      v.scores.push_back(0.0f);
      v.types.push_back(kTokenUnused);
    }
    PD_TRY(v.finalize(path));
  }
  return Status();
}

// After checking, tensors take the names the rest of Paddock uses (GGUF's), so a model loaded
// from HF exports and reports like any other.
void name_as_gguf(LlamaWeights* w) {
  w->tok_embd.name = "token_embd.weight";
  w->output_norm.name = "output_norm.weight";
  if (!w->output.empty()) w->output.name = "output.weight";
  for (size_t l = 0; l < w->layers.size(); l++) {
    LlamaLayer& y = w->layers[l];
    const std::string p = "blk." + std::to_string(l) + ".";
    const std::pair<Tensor*, const char*> names[] = {
        {&y.attn_norm, "attn_norm"}, {&y.wq, "attn_q"},     {&y.wk, "attn_k"},       {&y.wv, "attn_v"},  {&y.wo, "attn_output"},
        {&y.ffn_norm, "ffn_norm"},   {&y.w_gate, "ffn_gate"}, {&y.w_down, "ffn_down"}, {&y.w_up, "ffn_up"}};
    for (const auto& n : names) n.first->name = p + n.second + ".weight";
  }
}

std::string folder_name(std::string dir) {
  while (dir.size() > 1 && (dir.back() == '/' || dir.back() == '\\')) dir.pop_back();
  const size_t slash = dir.find_last_of("/\\");
  return slash == std::string::npos ? dir : dir.substr(slash + 1);
}

}  // namespace

Status load_hf_checkpoint(const std::string& dir, const LoadOptions& opts, Model* m) {
  const std::string config_path = dir + "/config.json";
  if (!is_file(config_path)) {
    return PD_ERROR(BadModelFile, "%s: expected config.json in the folder (an HF checkpoint), which is missing", dir.c_str());
  }
  std::string text;
  PD_TRY(read_file(config_path, &text));
  HfConfig h;
  PD_TRY(parse_hf_config(text, config_path, &h));
  Shards shards;
  PD_TRY(open_shards(dir, &shards));

  m->format = ModelFormat::HF;
  m->name = folder_name(dir);
  m->architecture = "llama";
  m->metadata.push_back({"general.architecture", meta_string("llama")});
  m->metadata.push_back({"hf.architecture", meta_string(h.architecture)});
  if (!h.torch_dtype.empty()) m->metadata.push_back({"hf.torch_dtype", meta_string(h.torch_dtype)});
  m->metadata.push_back({"hf.shard_count", meta_number((double)shards.files.size())});
  PD_TRY(load_vocab(dir, opts, h, m));

  LlamaConfig& c = h.config;
  LlamaWeights& W = m->weights;
  Binder b(shards, opts.info_only, m);
  PD_TRY(b.matrix("model.embed_tokens.weight", false, &W.tok_embd));
  PD_TRY(b.norm("model.norm.weight", &W.output_norm));
  if (!c.tied_embeddings) {
    if (!shards.find("lm_head.weight")) {
      return PD_ERROR(BadModelFile, "%s: expected lm_head.weight (tie_word_embeddings is false), which is missing",
                      shards.listing.c_str());
    }
    PD_TRY(b.matrix("lm_head.weight", false, &W.output));
  }
  W.layers.resize((size_t)c.n_layers);
  for (int64_t l = 0; l < c.n_layers; l++) {
    LlamaLayer& y = W.layers[(size_t)l];
    const std::string p = "model.layers." + std::to_string(l) + ".";
    PD_TRY(b.norm(p + "input_layernorm.weight", &y.attn_norm));
    PD_TRY(b.rope_matrix(p + "self_attn.q_proj.weight", c.n_heads, c.head_dim(), c.dim, &y.wq));
    PD_TRY(b.rope_matrix(p + "self_attn.k_proj.weight", c.n_kv_heads, c.head_dim(), c.dim, &y.wk));
    PD_TRY(b.matrix(p + "self_attn.v_proj.weight", false, &y.wv));
    PD_TRY(b.matrix(p + "self_attn.o_proj.weight", false, &y.wo));
    PD_TRY(b.norm(p + "post_attention_layernorm.weight", &y.ffn_norm));
    PD_TRY(b.matrix(p + "mlp.gate_proj.weight", false, &y.w_gate));
    PD_TRY(b.matrix(p + "mlp.down_proj.weight", false, &y.w_down));
    PD_TRY(b.matrix(p + "mlp.up_proj.weight", false, &y.w_up));
  }
  if (h.llama3_rope) {
    const std::vector<float> f = llama3_rope_factors(h);
    Buffer buf;
    PD_TRY(buf.allocate(f.size() * 4, "RoPE frequency factors"));
    std::memcpy(buf.data(), f.data(), f.size() * 4);
    W.rope_freqs = make_tensor("rope_freqs.weight", DType::F32, buf.data(), (int64_t)f.size());
    m->owned.push_back(std::move(buf));
  }
  m->config = c;
  PD_TRY(check_llama_weights(c, W, dir, !opts.info_only));  // messages name the HF tensors
  name_as_gguf(&W);
  summarize_weights(m);
  m->file_bytes = 0;
  for (size_t i = 0; i < shards.files.size(); i++) {
    m->file_bytes += shards.files[i].file->size();
    if (i == 0) m->file = shards.files[i].file;
    else m->shards.push_back(shards.files[i].file);
  }
  return Status();
}

}  // namespace paddock
