#include "io/adapter_peft.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "io/adapter_gguf.h"
#include "io/atomic_file.h"
#include "io/hf_checkpoint.h"
#include "io/json_reader.h"
#include "io/mapped_file.h"
#include "io/safetensors.h"
#include "io/safetensors_writer.h"

namespace paddock {

namespace {

const char* const kPrefix = "base_model.model.model.layers.";

// "base_model.model.model.layers.3.self_attn.q_proj.lora_B.weight"
std::string peft_name(int64_t layer, LoraTarget t, bool is_b) {
  return kPrefix + std::to_string(layer) + "." + lora_target_hf(t) + (is_b ? ".lora_B.weight" : ".lora_A.weight");
}

// "q_proj" for "self_attn.q_proj": PEFT's target_modules name the module's last component.
std::string module_leaf(LoraTarget t) {
  const std::string hf = lora_target_hf(t);
  return hf.substr(hf.find('.') + 1);
}

// Heads whose rows RoPE rotates (q: n_heads, k: n_kv_heads); 0 for matrices it doesn't touch.
int64_t rope_heads(const LlamaConfig& c, LoraTarget t) {
  return t == LoraTarget::Q ? c.n_heads : t == LoraTarget::K ? c.n_kv_heads : 0;
}

// A float as JSON: integral values without a fraction (PEFT writes "lora_alpha": 16).
std::string json_number(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string((long long)v);
  return strprintf("%.9g", v);
}

Status read_json_object(const std::string& path, Json* out) {
  std::string text;
  PD_TRY(read_file(path, &text));
  size_t pos = 0;
  if (!parse_json(text, out, &pos) || out->kind != Json::Obj)
    return PD_ERROR(BadModelFile, "%s: expected a JSON object, found malformed JSON (near byte %zu)", path.c_str(), pos);
  return Status();
}

}  // namespace

Status export_adapter_peft(const Model& base, const LoraConfig& lc, const ParamSet& adapter, const std::string& dir) {
  LoraWeights table;
  PD_TRY(check_adapter_params(base, lc, adapter, dir, &table));
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::u8path(dir), ec);
  if (ec) return PD_ERROR(IO, "cannot create the folder %s: %s", dir.c_str(), ec.message().c_str());

  const LlamaConfig& c = base.config;
  std::vector<SafetensorsEntry> entries;
  std::vector<std::vector<float>> permuted;  // q/k lora_B in HF row order
  permuted.reserve((size_t)(2 * c.n_layers));
  for (int64_t l = 0; l < c.n_layers; l++) {
    for (int i = 0; i < kLoraTargetCount; i++) {
      const LoraWeights::Pair& p = table.layers[(size_t)l][(size_t)i];
      if (!p.a) continue;
      const LoraTarget t = (LoraTarget)i;
      entries.push_back({peft_name(l, t, false), "F32", {p.a->rows, p.a->cols}, p.a->value.data(),
                         (uint64_t)p.a->size() * sizeof(float)});
      const float* b = p.b->value.data();
      if (const int64_t heads = rope_heads(c, t)) {
        permuted.emplace_back(p.b->value.size());
        permute_rope_rows((const uint8_t*)b, (uint8_t*)permuted.back().data(), heads, c.head_dim(),
                          (size_t)p.b->cols * sizeof(float), /*inverse=*/true);
        b = permuted.back().data();
      }
      entries.push_back({peft_name(l, t, true), "F32", {p.b->rows, p.b->cols}, b, (uint64_t)p.b->size() * sizeof(float)});
    }
  }
  PD_TRY(write_safetensors(dir + "/adapter_model.safetensors", entries, {{"format", "pt"}}));

  std::string modules;
  for (int i = 0; i < kLoraTargetCount; i++)
    if (lc.targets_has((LoraTarget)i)) modules += (modules.empty() ? "" : ", ") + json_quote(module_leaf((LoraTarget)i));
  const std::string base_name = base.format == ModelFormat::HF ? base.path : base.name;
  // The keys PEFT's LoraConfig serialises (0.10 and later), with its defaults where Paddock has
  // nothing to say.
  const std::string json = "{\n"
                           "  \"alpha_pattern\": {},\n"
                           "  \"auto_mapping\": null,\n"
                           "  \"base_model_name_or_path\": " + json_quote(base_name) + ",\n"
                           "  \"bias\": \"none\",\n"
                           "  \"fan_in_fan_out\": false,\n"
                           "  \"inference_mode\": true,\n"
                           "  \"init_lora_weights\": true,\n"
                           "  \"layer_replication\": null,\n"
                           "  \"layers_pattern\": null,\n"
                           "  \"layers_to_transform\": null,\n"
                           "  \"loftq_config\": {},\n"
                           "  \"lora_alpha\": " + json_number(f32_as_decimal(lc.alpha)) + ",\n"
                           "  \"lora_dropout\": " + json_number(f32_as_decimal(lc.dropout)) + ",\n"
                           "  \"megatron_config\": null,\n"
                           "  \"megatron_core\": \"megatron.core\",\n"
                           "  \"modules_to_save\": null,\n"
                           "  \"peft_type\": \"LORA\",\n"
                           "  \"r\": " + std::to_string(lc.rank) + ",\n"
                           "  \"rank_pattern\": {},\n"
                           "  \"revision\": null,\n"
                           "  \"target_modules\": [" + modules + "],\n"
                           "  \"task_type\": \"CAUSAL_LM\",\n"
                           "  \"use_dora\": false,\n"
                           "  \"use_rslora\": false\n"
                           "}\n";
  return write_text_file(dir + "/adapter_config.json", json);
}

Status read_adapter_peft(const Model& base, const std::string& dir, LoraConfig* lc, ParamSet* params) {
  const std::string config_path = dir + "/adapter_config.json";
  Json cfg;
  PD_TRY(read_json_object(config_path, &cfg));
  const std::string type = cfg.str("peft_type");
  if (type != "LORA")
    return PD_ERROR(Unsupported, "%s: peft_type \"%s\" is not LORA", config_path.c_str(), type.c_str());
  const double r = cfg.num("r", 0), alpha = cfg.num("lora_alpha", r);
  if (!(r >= 1 && r <= 65536 && r == std::floor(r)))
    return PD_ERROR(BadModelFile, "%s: \"r\" must be a positive integer", config_path.c_str());
  if (cfg.str("bias", "none") != "none" || cfg.boolean("fan_in_fan_out", false) || cfg.boolean("use_dora", false))
    return PD_ERROR(Unsupported, "%s: bias other than \"none\", fan_in_fan_out and DoRA are not supported",
                    config_path.c_str());
  for (const char* key : {"rank_pattern", "alpha_pattern"}) {
    const Json* j = cfg.get(key);
    if (j && j->kind == Json::Obj && !j->o.empty())
      return PD_ERROR(Unsupported, "%s: per-module \"%s\" is not supported", config_path.c_str(), key);
  }
  LoraConfig out;
  out.rank = (int)r;
  // rsLoRA scales by alpha / sqrt(r); Paddock by alpha / r: the same product with alpha * sqrt(r).
  out.alpha = (float)(cfg.boolean("use_rslora", false) ? alpha * std::sqrt(r) : alpha);
  out.dropout = 0.0f;  // training only; an inference adapter has none
  out.targets = 0;
  const Json* modules = cfg.get("target_modules");
  if (!modules || modules->kind != Json::Arr)
    return PD_ERROR(Unsupported, "%s: \"target_modules\" must be a list of module names", config_path.c_str());
  for (const Json& m : modules->a) {
    int found = -1;
    for (int i = 0; i < kLoraTargetCount; i++)
      if (m.kind == Json::Str && m.s == module_leaf((LoraTarget)i)) found = i;
    if (found < 0)
      return PD_ERROR(Unsupported, "%s: target module %s is not one of q_proj, k_proj, v_proj, o_proj, gate_proj, "
                      "up_proj, down_proj", config_path.c_str(), m.kind == Json::Str ? m.s.c_str() : "(not a string)");
    out.targets |= 1u << found;
  }

  const std::string st_path = dir + "/adapter_model.safetensors";
  std::shared_ptr<MappedFile> file;
  PD_TRY(MappedFile::open(st_path, &file));
  SafetensorsFile st;
  PD_TRY(safetensors_parse(file, &st));
  const LlamaConfig& c = base.config;
  ParamSet ps;
  size_t used = 0;
  for (int64_t l = 0; l < c.n_layers; l++) {
    for (int i = 0; i < kLoraTargetCount; i++) {
      const LoraTarget t = (LoraTarget)i;
      if (!out.targets_has(t)) continue;
      int64_t n_in = 0, n_out = 0;
      lora_target_shape(c, t, &n_in, &n_out);
      for (bool is_b : {false, true}) {
        const std::string name = peft_name(l, t, is_b);
        const SafetensorsTensor* src = st.find(name);
        const int64_t rows = is_b ? n_out : out.rank, cols = is_b ? out.rank : n_in;
        if (!src) return PD_ERROR(BadModelFile, "%s: tensor %s is missing", st_path.c_str(), name.c_str());
        if (!src->is_float || src->shape.size() != 2 || src->shape[0] != rows || src->shape[1] != cols)
          return PD_ERROR(BadModelFile, "%s: tensor %s: expected F32/F16/BF16 [%lld, %lld], found %s of %zu dims",
                          st_path.c_str(), name.c_str(), (long long)rows, (long long)cols, src->dtype.c_str(),
                          src->shape.size());
        Param& p = ps.add(lora_tensor_name(l, t, is_b), rows, cols);
        std::vector<float> tmp((size_t)(rows * cols));
        convert_to_f32(src->type, src->data, tmp.data(), rows * cols);
        if (const int64_t heads = is_b ? rope_heads(c, t) : 0) {
          permute_rope_rows((const uint8_t*)tmp.data(), (uint8_t*)p.value.data(), heads, c.head_dim(),
                            (size_t)cols * sizeof(float));
        } else {
          p.value = std::move(tmp);
        }
        used++;
      }
    }
  }
  if (used != st.tensors.size()) {
    return PD_ERROR(Unsupported, "%s: holds %zu tensors, of which %zu are LoRA A/B of the configured target modules "
                    "(modules_to_save or other modules are not supported)", st_path.c_str(), st.tensors.size(), used);
  }
  LoraWeights table;
  PD_TRY(check_adapter_params(base, out, ps, dir, &table));
  *lc = out;
  *params = std::move(ps);
  return Status();
}

}  // namespace paddock
