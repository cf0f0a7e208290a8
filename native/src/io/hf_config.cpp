#include "io/hf_config.h"

#include <cmath>

#include "io/json_reader.h"

namespace paddock {

int32_t hf_token_id(const Json* j) {
  if (!j) return -1;
  if (j->kind == Json::Arr) return j->a.empty() ? -1 : hf_token_id(&j->a[0]);
  return j->is_count() && j->n < 2147483647.0 ? (int32_t)j->n : -1;
}

namespace {

// A whole, non-negative number (sizes); `def` when absent and not required.
Status get_size(const Json& root, const char* key, const std::string& path, bool required, int64_t def, int64_t* out) {
  const Json* j = root.get(key);
  if (!j || j->kind == Json::Null) {
    if (required) return PD_ERROR(BadModelFile, "%s: expected \"%s\", which is missing", path.c_str(), key);
    *out = def;
    return Status();
  }
  if (!j->is_count()) return PD_ERROR(BadModelFile, "%s: expected \"%s\" to be a whole number", path.c_str(), key);
  *out = j->n > (double)INT32_MAX ? (int64_t)INT32_MAX + 1 : (int64_t)j->n;  // validate() reports the range
  return Status();
}

Status get_real(const Json& root, const char* key, const std::string& path, double def, double* out) {
  const Json* j = root.get(key);
  if (!j || j->kind == Json::Null) {
    *out = def;
    return Status();
  }
  if (j->kind != Json::Num) return PD_ERROR(BadModelFile, "%s: expected \"%s\" to be a number", path.c_str(), key);
  *out = j->n;
  return Status();
}

Status parse_rope_scaling(const Json& rs, const std::string& path, HfConfig* h) {
  const char* p = path.c_str();
  if (rs.kind == Json::Null) return Status();
  if (rs.kind != Json::Obj) return PD_ERROR(BadModelFile, "%s: expected rope_scaling to be an object or null", p);
  std::string type = rs.str("rope_type", rs.str("type", "default"));
  double factor = 1.0;
  PD_TRY(get_real(rs, "factor", path, 1.0, &factor));
  if (type == "default") return Status();
  if (!(factor > 0.0) || !std::isfinite(factor)) {
    return PD_ERROR(BadModelFile, "%s: expected a positive rope_scaling.factor, found %g", p, factor);
  }
  if (type == "linear") {
    h->config.rope_linear_factor = (float)factor;
    return Status();
  }
  if (type == "llama3") {
    h->llama3_rope = true;
    h->rope_factor = factor;
    PD_TRY(get_real(rs, "low_freq_factor", path, 1.0, &h->low_freq_factor));
    PD_TRY(get_real(rs, "high_freq_factor", path, 4.0, &h->high_freq_factor));
    PD_TRY(get_real(rs, "original_max_position_embeddings", path, 8192.0, &h->original_context));
    if (!(h->high_freq_factor > h->low_freq_factor) || !(h->low_freq_factor > 0.0) || !(h->original_context > 0.0)) {
      return PD_ERROR(BadModelFile, "%s: rope_scaling llama3 needs 0 < low_freq_factor < high_freq_factor and a positive "
                      "original_max_position_embeddings", p);
    }
    return Status();
  }
  return PD_ERROR(Unsupported, "%s: RoPE scaling '%s' is not supported (Paddock runs 'linear' and 'llama3')", p,
                  type.c_str());
}

}  // namespace

Status parse_hf_config(std::string_view text, const std::string& path, HfConfig* out) {
  const char* p = path.c_str();
  Json root;
  size_t error_pos = 0;
  if (!parse_json(text, &root, &error_pos) || root.kind != Json::Obj) {
    return PD_ERROR(BadModelFile, "%s: expected a JSON object, found malformed JSON (near byte %zu)", p, error_pos);
  }
  HfConfig h;
  const Json* archs = root.get("architectures");
  std::string found;
  if (archs && archs->kind == Json::Arr) {
    for (const Json& a : archs->a) {
      if (a.kind != Json::Str) continue;
      if (a.s == "LlamaForCausalLM" || a.s == "MistralForCausalLM") h.architecture = a.s;
      if (found.empty()) found = a.s;
    }
  }
  if (h.architecture.empty()) {
    const std::string model_type = root.str("model_type");
    if (found.empty() && (model_type == "llama" || model_type == "mistral")) {
      h.architecture = model_type == "llama" ? "LlamaForCausalLM" : "MistralForCausalLM";
    } else {
      return PD_ERROR(Unsupported, "%s: architecture '%s' is not supported (Paddock runs LlamaForCausalLM and "
                      "MistralForCausalLM)", p, found.empty() ? root.str("model_type", "(none given)").c_str() : found.c_str());
    }
  }
  LlamaConfig& c = h.config;
  PD_TRY(get_size(root, "hidden_size", path, true, 0, &c.dim));
  PD_TRY(get_size(root, "intermediate_size", path, true, 0, &c.hidden_dim));
  PD_TRY(get_size(root, "num_hidden_layers", path, true, 0, &c.n_layers));
  PD_TRY(get_size(root, "num_attention_heads", path, true, 0, &c.n_heads));
  PD_TRY(get_size(root, "num_key_value_heads", path, false, c.n_heads, &c.n_kv_heads));
  PD_TRY(get_size(root, "vocab_size", path, true, 0, &c.vocab_size));
  PD_TRY(get_size(root, "max_position_embeddings", path, false, 2048, &c.context_length));
  // Mistral's sliding-window attention equals full attention within the window: the context
  // Paddock offers stops there, so what runs is exact.
  int64_t window = 0;
  PD_TRY(get_size(root, "sliding_window", path, false, 0, &window));
  if (window > 0 && window < c.context_length) c.context_length = window;
  double theta = 10000.0, eps = 1e-6;
  PD_TRY(get_real(root, "rope_theta", path, 10000.0, &theta));
  PD_TRY(get_real(root, "rms_norm_eps", path, 1e-6, &eps));
  c.rope_theta = (float)theta;
  c.rms_eps = (float)eps;
  c.tied_embeddings = root.boolean("tie_word_embeddings", false);
  PD_TRY(c.validate(path));
  int64_t head_dim = 0;
  PD_TRY(get_size(root, "head_dim", path, false, c.head_dim(), &head_dim));
  if (head_dim != c.head_dim()) {
    return PD_ERROR(Unsupported, "%s: head_dim %lld differs from hidden_size / num_attention_heads = %lld, which Paddock "
                    "does not support", p, (long long)head_dim, (long long)c.head_dim());
  }
  for (const char* key : {"attention_bias", "mlp_bias"}) {
    if (root.boolean(key, false)) return PD_ERROR(Unsupported, "%s: %s is true: biases are not supported", p, key);
  }
  if (const Json* rs = root.get("rope_scaling")) PD_TRY(parse_rope_scaling(*rs, path, &h));
  h.torch_dtype = root.str("torch_dtype", root.str("dtype"));
  h.bos_token_id = hf_token_id(root.get("bos_token_id"));
  h.eos_token_id = hf_token_id(root.get("eos_token_id"));
  *out = std::move(h);
  return Status();
}

std::vector<float> llama3_rope_factors(const HfConfig& h) {
  const int64_t dim = h.config.head_dim();
  const double pi = 3.14159265358979323846;
  const double low_wavelen = h.original_context / h.low_freq_factor;
  const double high_wavelen = h.original_context / h.high_freq_factor;
  std::vector<float> out;
  for (int64_t i = 0; i < dim; i += 2) {
    // The converter computes the base frequencies in float32 (torch), the rest in double.
    const float freq = 1.0f / std::pow(h.config.rope_theta, (float)i / (float)dim);
    const double wavelen = 2.0 * pi / (double)freq;
    double f;
    if (wavelen < high_wavelen) {
      f = 1.0;
    } else if (wavelen > low_wavelen) {
      f = h.rope_factor;
    } else {
      const double smooth = (h.original_context / wavelen - h.low_freq_factor) / (h.high_freq_factor - h.low_freq_factor);
      f = 1.0 / ((1.0 - smooth) / h.rope_factor + smooth);
    }
    out.push_back((float)f);
  }
  return out;
}

}  // namespace paddock
