#include "io/adapter_gguf.h"

#include <cstring>
#include <memory>

#include "backend/cpu/ops.h"
#include "io/adapter_peft.h"
#include "io/gguf.h"
#include "io/gguf_writer.h"
#include "io/hf_checkpoint.h"
#include "io/mapped_file.h"

namespace paddock {

std::string lora_tensor_name(int64_t layer, LoraTarget target, bool is_b) {
  return "blk." + std::to_string(layer) + "." + lora_target_gguf(target) + (is_b ? ".weight.lora_b" : ".weight.lora_a");
}

bool parse_lora_tensor_name(const std::string& name, int64_t* layer, LoraTarget* target, bool* is_b) {
  if (name.compare(0, 4, "blk.") != 0) return false;
  size_t i = 4;
  int64_t n = 0;
  if (i >= name.size() || name[i] < '0' || name[i] > '9') return false;
  while (i < name.size() && name[i] >= '0' && name[i] <= '9' && n < (1 << 20)) n = n * 10 + (name[i++] - '0');
  if (i >= name.size() || name[i] != '.') return false;
  const std::string rest = name.substr(i + 1);  // "attn_q.weight.lora_a"
  for (int t = 0; t < kLoraTargetCount; t++) {
    const std::string base = std::string(lora_target_gguf((LoraTarget)t)) + ".weight.lora_";
    if (rest.size() == base.size() + 1 && rest.compare(0, base.size(), base) == 0 &&
        (rest.back() == 'a' || rest.back() == 'b')) {
      *layer = n;
      *target = (LoraTarget)t;
      *is_b = rest.back() == 'b';
      return true;
    }
  }
  return false;
}

Status check_adapter_params(const Model& base, const LoraConfig& lc, const ParamSet& adapter,
                            const std::string& source, LoraWeights* table) {
  // lora_bind only looks tensors up and checks them; its parameter is non-const because the
  // table it builds serves training too. Nothing is written through it here.
  return lora_bind(base.config, lc, const_cast<ParamSet*>(&adapter), source, table);
}

Status export_adapter_gguf(const Model& base, const LoraConfig& lc, const ParamSet& adapter, const std::string& path) {
  LoraWeights table;
  PD_TRY(check_adapter_params(base, lc, adapter, path, &table));
  GgufWriter w;
  w.set_string("general.architecture", base.architecture);
  w.set_string("general.type", "adapter");
  w.set_string("general.name", base.name + " LoRA");
  w.set_string("adapter.type", "lora");
  w.set_f32("adapter.lora.alpha", lc.alpha);
  for (const auto& layer : table.layers) {
    for (const LoraWeights::Pair& p : layer) {
      if (!p.a) continue;
      for (const Param* t : {p.a, p.b}) w.add_tensor(t->name, DType::F32, {t->cols, t->rows}, t->value.data(), DType::F32);
    }
  }
  return w.write_file(path);
}

Status read_adapter_gguf(const Model& base, const std::string& path, LoraConfig* lc, ParamSet* params) {
  std::shared_ptr<MappedFile> file;
  PD_TRY(MappedFile::open(path, &file));
  GgufFile g;
  PD_TRY(gguf_parse(file->data(), file->size(), path, &g));
  bool found = false;
  std::string type, adapter_type, arch;
  PD_TRY(g.get_string("general.type", &type, &found));
  if (type != "adapter")
    return PD_ERROR(BadModelFile, "%s: expected general.type \"adapter\" (a LoRA adapter), found \"%s\"", path.c_str(),
                    found ? type.c_str() : "(absent)");
  PD_TRY(g.get_string("adapter.type", &adapter_type, &found));
  if (adapter_type != "lora")
    return PD_ERROR(BadModelFile, "%s: expected adapter.type \"lora\", found \"%s\"", path.c_str(),
                    found ? adapter_type.c_str() : "(absent)");
  PD_TRY(g.get_string("general.architecture", &arch, &found));
  if (arch != base.architecture)
    return PD_ERROR(BadModelFile, "%s: an adapter for architecture \"%s\", the base model is \"%s\"", path.c_str(),
                    arch.c_str(), base.architecture.c_str());
  float alpha = 0.0f;
  PD_TRY(g.get_f32("adapter.lora.alpha", &alpha, &found));

  LoraConfig out;
  out.rank = 0;
  out.targets = 0;
  ParamSet ps;
  for (const GgufTensorInfo& ti : g.tensors) {
    int64_t layer = 0;
    LoraTarget target = LoraTarget::Q;
    bool is_b = false;
    if (!parse_lora_tensor_name(ti.name, &layer, &target, &is_b))
      return PD_ERROR(BadModelFile, "%s: tensor '%s' is not a LoRA tensor Paddock applies (blk.N.<attn_q|attn_k|attn_v|"
                      "attn_output|ffn_gate|ffn_up|ffn_down>.weight.lora_a/b)", path.c_str(), ti.name.c_str());
    if (ti.n_dims != 2 || !(dtype_is_float(ti.type) || dtype_is_quant_matrix(ti.type)))
      return PD_ERROR(BadModelFile, "%s: tensor '%s' must be a 2-D matrix of a float or quant type, found %u-D %s",
                      path.c_str(), ti.name.c_str(), ti.n_dims, dtype_name(ti.type));
    const int64_t rank = is_b ? ti.ne[0] : ti.ne[1];
    if (out.rank != 0 && rank != out.rank)
      return PD_ERROR(BadModelFile, "%s: tensor '%s' has rank %lld, others %d (one rank per adapter)", path.c_str(),
                      ti.name.c_str(), (long long)rank, out.rank);
    if (rank < 1 || rank > (1 << 16))
      return PD_ERROR(BadModelFile, "%s: tensor '%s' has an impossible rank %lld", path.c_str(), ti.name.c_str(),
                      (long long)rank);
    out.rank = (int)rank;
    out.targets |= 1u << (int)target;
    Param& p = ps.add(ti.name, ti.ne[1], ti.ne[0]);
    const Tensor view = make_tensor(ti.name, ti.type, g.tensor_data(ti), ti.ne[0], ti.ne[1]);
    for (int64_t r = 0; r < p.rows; r++) get_row_f32(view, r, p.value.data() + r * p.cols);
  }
  if (ps.size() == 0) return PD_ERROR(BadModelFile, "%s: the adapter holds no LoRA tensors", path.c_str());
  // llama.cpp: alpha 0 (or absent) means "no alpha scaling", i.e. alpha / rank = 1.
  out.alpha = alpha != 0.0f ? alpha : (float)out.rank;
  LoraWeights table;
  PD_TRY(check_adapter_params(base, out, ps, path, &table));  // every layer, every shape
  int64_t expected = 0;  // with every target in every layer found, any other tensor is extra
  for (int t = 0; t < kLoraTargetCount; t++) expected += out.targets_has((LoraTarget)t) ? 2 * base.config.n_layers : 0;
  if ((int64_t)ps.size() != expected)
    return PD_ERROR(BadModelFile, "%s: holds %zu LoRA tensors, expected %lld (layers beyond the base's?)", path.c_str(),
                    ps.size(), (long long)expected);
  *lc = out;
  *params = std::move(ps);
  return Status();
}

Status load_adapter_file(const Model& base, const std::string& path, LoraConfig* lc, ParamSet* params) {
  if (is_directory(path)) return read_adapter_peft(base, path, lc, params);
  const size_t slash = path.find_last_of('/');
  const std::string leaf = slash == std::string::npos ? path : path.substr(slash + 1);
  if (leaf == "adapter_model.safetensors" || leaf == "adapter_config.json")
    return read_adapter_peft(base, slash == std::string::npos ? "." : path.substr(0, slash), lc, params);
  return read_adapter_gguf(base, path, lc, params);
}

}  // namespace paddock
