// Test helper: writes a loaded Model as an HF checkpoint folder the way transformers saves one
// (config.json, model.safetensors or shards + index, q/k rows in rotate-half order, every tensor
// in one dtype unless norms_f32), with a tokenizer.json made from a SentencePiece vocabulary.
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <unordered_set>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include "io/hf_checkpoint.h"
#include "io/safetensors_writer.h"
#include "model/model.h"

namespace hftest {

using namespace paddock;

struct WriteOptions {
  DType type = DType::F32;
  int shards = 1;
  bool norms_f32 = false;        // keep norm weights F32 whatever `type` (mixed dtypes are legal)
  bool tokenizer_json = true;
  std::string architecture = "LlamaForCausalLM";
  std::string config_extra;      // more "key": value pairs for config.json (leading comma included)
  // Edits the tensor list before it is written (bad-input tests).
  std::function<void(std::vector<SafetensorsEntry>*)> mutate;
};

inline bool write_text(const std::string& path, const std::string& text) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return false;
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  return std::fclose(f) == 0 && ok;
}

// This process's scratch folder (the pid keeps test runs of parallel builds apart).
inline std::string tmp_root() {
  static const std::string root = [] {
    const std::string r = "/tmp/paddock-test-hf-" + std::to_string((long)getpid());
    mkdir(r.c_str(), 0755);
    return r;
  }();
  return root;
}

inline std::string fresh_dir(const std::string& name) {
  const std::string dir = tmp_root() + "/" + name;
  (void)std::system(("rm -rf '" + dir + "'").c_str());
  mkdir(dir.c_str(), 0755);
  return dir;
}

inline void remove_tmp_root() { (void)std::system(("rm -rf '" + tmp_root() + "'").c_str()); }

inline const char* st_dtype(DType t) { return t == DType::F16 ? "F16" : t == DType::BF16 ? "BF16" : "F32"; }

// tokenizer.json for a SentencePiece vocabulary: byte fallback, merges ordered by score (each
// multi-character piece made from the first split whose halves are both pieces).
inline std::string spm_tokenizer_json(const Vocab& v) {
  std::string vocab, merges, added;
  std::vector<size_t> order;
  for (size_t i = 0; i < v.pieces.size(); i++) {
    vocab += (i ? "," : "") + json_quote(v.pieces[i]) + ":" + std::to_string(i);
    if (v.types[i] == kTokenControl || v.types[i] == kTokenUnknown)
      added += std::string(added.empty() ? "" : ",") + "{\"id\":" + std::to_string(i) + ",\"content\":" +
               json_quote(v.pieces[i]) + ",\"special\":true}";
    if (v.types[i] == kTokenNormal) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v.scores[a] > v.scores[b]; });
  const std::unordered_set<std::string> known(v.pieces.begin(), v.pieces.end());
  for (size_t id : order) {
    const std::string& p = v.pieces[id];
    for (size_t k = 1; k < p.size(); k++) {
      if (((unsigned char)p[k] & 0xC0) == 0x80) continue;  // not a UTF-8 boundary
      const std::string a = p.substr(0, k), b = p.substr(k);
      if (known.count(a) && known.count(b)) {
        merges += std::string(merges.empty() ? "" : ",") + json_quote(a + " " + b);
        break;
      }
    }
  }
  return "{\"version\":\"1.0\",\"added_tokens\":[" + added +
         "],\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"Prepend\",\"prepend\":\"\xE2\x96\x81\"},"
         "{\"type\":\"Replace\",\"pattern\":{\"String\":\" \"},\"content\":\"\xE2\x96\x81\"}]},"
         "\"model\":{\"type\":\"BPE\",\"unk_token\":\"<unk>\",\"byte_fallback\":true,\"vocab\":{" + vocab +
         "},\"merges\":[" + merges + "]}}";
}

inline std::string config_json(const Model& m, const WriteOptions& o) {
  const LlamaConfig& c = m.config;
  char eps[32], theta[32];
  std::snprintf(eps, sizeof eps, "%.9g", (double)c.rms_eps);
  std::snprintf(theta, sizeof theta, "%.9g", (double)c.rope_theta);
  const char* dtype = o.type == DType::F16 ? "float16" : o.type == DType::BF16 ? "bfloat16" : "float32";
  return "{\"architectures\":[\"" + o.architecture + "\"],\"model_type\":\"llama\",\"hidden_size\":" +
         std::to_string(c.dim) + ",\"intermediate_size\":" + std::to_string(c.hidden_dim) +
         ",\"num_hidden_layers\":" + std::to_string(c.n_layers) + ",\"num_attention_heads\":" +
         std::to_string(c.n_heads) + ",\"num_key_value_heads\":" + std::to_string(c.n_kv_heads) +
         ",\"vocab_size\":" + std::to_string(c.vocab_size) + ",\"max_position_embeddings\":" +
         std::to_string(c.context_length) + ",\"rms_norm_eps\":" + eps + ",\"rope_theta\":" + theta +
         ",\"tie_word_embeddings\":" + (c.tied_embeddings ? "true" : "false") + ",\"torch_dtype\":\"" + dtype + "\"" +
         o.config_extra + "}";
}

// Writes `m` under `dir` (which must exist). False if a file could not be written.
inline bool write_hf_folder(const Model& m, const std::string& dir, const WriteOptions& o) {
  const LlamaConfig& c = m.config;
  std::vector<std::vector<uint8_t>> store;  // converted bytes, alive until written
  std::vector<SafetensorsEntry> entries;
  auto add = [&](const std::string& name, const Tensor& t, bool norm, int64_t rope_heads) {
    const DType type = norm && o.norms_f32 ? DType::F32 : o.type;
    const int64_t n = t.nelements();
    std::vector<float> f32((size_t)n);
    convert_to_f32(t.type, t.data, f32.data(), n);
    std::vector<uint8_t> bytes((size_t)n * (type == DType::F32 ? 4 : 2));
    convert_from_f32(f32.data(), type, bytes.data(), n);
    if (rope_heads > 0) {
      std::vector<uint8_t> hf(bytes.size());
      permute_rope_rows(bytes.data(), hf.data(), rope_heads, c.head_dim(), bytes.size() / (size_t)t.ne[1], true);
      bytes.swap(hf);
    }
    store.push_back(std::move(bytes));
    SafetensorsEntry e;
    e.name = name;
    e.dtype = st_dtype(type);
    e.shape = t.n_dims == 2 ? std::vector<int64_t>{t.ne[1], t.ne[0]} : std::vector<int64_t>{t.ne[0]};
    e.data = store.back().data();
    e.nbytes = store.back().size();
    entries.push_back(e);
  };
  store.reserve(16 + 9 * m.weights.layers.size());
  const LlamaWeights& w = m.weights;
  add("model.embed_tokens.weight", w.tok_embd, false, 0);
  for (size_t l = 0; l < w.layers.size(); l++) {
    const LlamaLayer& y = w.layers[l];
    const std::string p = "model.layers." + std::to_string(l) + ".";
    add(p + "input_layernorm.weight", y.attn_norm, true, 0);
    add(p + "self_attn.q_proj.weight", y.wq, false, c.n_heads);
    add(p + "self_attn.k_proj.weight", y.wk, false, c.n_kv_heads);
    add(p + "self_attn.v_proj.weight", y.wv, false, 0);
    add(p + "self_attn.o_proj.weight", y.wo, false, 0);
    add(p + "post_attention_layernorm.weight", y.ffn_norm, true, 0);
    add(p + "mlp.gate_proj.weight", y.w_gate, false, 0);
    add(p + "mlp.down_proj.weight", y.w_down, false, 0);
    add(p + "mlp.up_proj.weight", y.w_up, false, 0);
  }
  add("model.norm.weight", w.output_norm, true, 0);
  if (!w.output.empty()) add("lm_head.weight", w.output, false, 0);
  if (o.mutate) o.mutate(&entries);

  bool ok = write_text(dir + "/config.json", config_json(m, o));
  if (o.tokenizer_json) ok = ok && write_text(dir + "/tokenizer.json", spm_tokenizer_json(m.vocab));
  const std::vector<std::pair<std::string, std::string>> meta = {{"format", "pt"}};
  if (o.shards <= 1) return ok && write_safetensors(dir + "/model.safetensors", entries, meta).ok();
  std::string index = "{\"metadata\":{},\"weight_map\":{";
  const size_t per = (entries.size() + (size_t)o.shards - 1) / (size_t)o.shards;
  for (int s = 0; s < o.shards; s++) {
    char name[64];
    std::snprintf(name, sizeof name, "model-%05d-of-%05d.safetensors", s + 1, o.shards);
    const size_t b = std::min(entries.size(), (size_t)s * per), e = std::min(entries.size(), b + per);
    std::vector<SafetensorsEntry> part(entries.begin() + (long)b, entries.begin() + (long)e);
    ok = ok && write_safetensors(dir + "/" + name, part, meta).ok();
    for (const SafetensorsEntry& t : part) index += (index.back() == '{' ? "" : ",") + json_quote(t.name) + ":\"" + name + "\"";
  }
  return ok && write_text(dir + "/model.safetensors.index.json", index + "}}");
}

}  // namespace hftest
