#include "model/lora_merge.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include "backend/cpu/ops.h"
#include "io/adapter_gguf.h"
#include "io/adapter_peft.h"
#include "io/atomic_file.h"
#include "io/model_export.h"

namespace paddock {

void lora_merge_row(const Param& a, const Param& b, float scale, int64_t row, float* w_row) {
  const int64_t rank = a.rows, n_in = a.cols;
  // delta = B[row, :] A, then W += scale * delta: the same grouping as the unmerged
  // W x + scale * B (A x), so both round alike.
  std::vector<float> delta((size_t)n_in, 0.0f);
  const float* brow = b.value.data() + row * b.cols;
  for (int64_t k = 0; k < rank; k++) {
    const float c = brow[k];
    const float* arow = a.value.data() + k * n_in;
    for (int64_t j = 0; j < n_in; j++) delta[(size_t)j] += c * arow[j];
  }
  for (int64_t j = 0; j < n_in; j++) w_row[j] += scale * delta[(size_t)j];
}

Status merged_export_type(const std::string& type, DType* out) {
  std::string t;
  for (char ch : type) t += (char)std::tolower((unsigned char)ch);
  if (t == "f32") *out = DType::F32;
  else if (t == "f16") *out = DType::F16;
  else if (t == "q8_0") *out = DType::Q8_0;
  else if (t == "q4_k_m") *out = DType::Q4_K;
  else return PD_ERROR(InvalidArgument, "merged export type must be f32, f16, q8_0 or q4_k_m, got '%s'", type.c_str());
  return Status();
}

Status export_merged_gguf(const Model& base, const LoraConfig* lc, const ParamSet* adapter,
                          const ParamSet* full_weights, const std::string& type, const std::string& path) {
  const bool lora = lc && adapter;
  if (lora == (full_weights != nullptr))
    return PD_ERROR(InvalidArgument, "a merged export needs either an adapter (with its config) or full weights");
  GgufExportOptions opts;
  PD_TRY(merged_export_type(type, &opts.matrix_type));
  LoraWeights table;
  if (lora) PD_TRY(check_adapter_params(base, *lc, *adapter, "the adapter", &table));

  if (full_weights) {
    Status bad;
    for_each_weight(base.weights, [&](const Tensor& t) {
      const Param* p = full_weights->find(t.name);
      if (p && bad.ok() && (p->cols != t.ne[0] || p->rows != t.nrows()))
        bad = PD_ERROR(BadModelFile, "fine-tuned weight %s is [%lld, %lld], the base's %s", t.name.c_str(),
                       (long long)p->rows, (long long)p->cols, t.shape_string().c_str());
    });
    PD_TRY(bad);
    opts.rows = [full_weights](const Tensor& t) -> ExportRowSource {
      const Param* p = full_weights->find(t.name);
      if (!p) return ExportRowSource();
      return [p](int64_t r, float* out) { std::copy(p->value.begin() + r * p->cols, p->value.begin() + (r + 1) * p->cols, out); };
    };
  } else {
    const float scale = lc->scale();
    opts.rows = [&table, scale](const Tensor& t) -> ExportRowSource {
      int64_t layer = 0;
      LoraTarget target = LoraTarget::Q;
      bool is_b = false;
      // The adapter's A names the base tensor it adapts: "<base name>.lora_a".
      if (!parse_lora_tensor_name(t.name + ".lora_a", &layer, &target, &is_b)) return ExportRowSource();
      const LoraWeights::Pair& p = table.layers[(size_t)layer][(size_t)target];
      if (!p.a) return ExportRowSource();
      const Tensor w = t;
      const Param* a = p.a;
      const Param* b = p.b;
      return [w, a, b, scale](int64_t r, float* out) {
        get_row_f32(w, r, out);
        lora_merge_row(*a, *b, scale, r, out);
      };
    };
  }
  PD_TRY(export_gguf(base, path, opts));
  return write_text_file(modelfile_path_for(path), ollama_modelfile(base, path));
}

std::string modelfile_path_for(const std::string& gguf_path) {
  const size_t slash = gguf_path.find_last_of('/');
  const size_t dot = gguf_path.find_last_of('.');
  const bool has_ext = dot != std::string::npos && (slash == std::string::npos || dot > slash + 1);
  return (has_ext ? gguf_path.substr(0, dot) : gguf_path) + ".Modelfile";
}

namespace {

// Ollama's Go-template forms of the chat formats Paddock knows, with their stop strings.
struct OllamaFormat {
  const char* marker;  // found in the Jinja template: this family
  const char* go_template;
  std::vector<const char*> stops;
};

const std::vector<OllamaFormat>& ollama_formats() {
  static const std::vector<OllamaFormat> formats = {
      {"<|start_header_id|>",
       "{{ if .System }}<|start_header_id|>system<|end_header_id|>\n\n{{ .System }}<|eot_id|>{{ end }}"
       "{{ if .Prompt }}<|start_header_id|>user<|end_header_id|>\n\n{{ .Prompt }}<|eot_id|>{{ end }}"
       "<|start_header_id|>assistant<|end_header_id|>\n\n{{ .Response }}<|eot_id|>",
       {"<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"}},
      {"<|im_start|>",
       "{{ if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}"
       "{{ if .Prompt }}<|im_start|>user\n{{ .Prompt }}<|im_end|>\n{{ end }}"
       "<|im_start|>assistant\n{{ .Response }}<|im_end|>\n",
       {"<|im_start|>", "<|im_end|>"}},
      {"[INST]",
       "[INST] {{ if .System }}<<SYS>>\n{{ .System }}\n<</SYS>>\n\n{{ end }}{{ .Prompt }} [/INST] {{ .Response }}",
       {"[INST]", "[/INST]", "<<SYS>>", "<</SYS>>"}},
  };
  return formats;
}

}  // namespace

std::string ollama_modelfile(const Model& m, const std::string& gguf_path) {
  const size_t slash = gguf_path.find_last_of('/');
  std::string out = "FROM ./" + (slash == std::string::npos ? gguf_path : gguf_path.substr(slash + 1)) + "\n";
  const std::string tmpl = model_chat_template(m);
  const OllamaFormat* format = nullptr;
  for (const OllamaFormat& f : ollama_formats())
    if (!format && (tmpl.empty() ? std::string(f.marker) == "<|im_start|>" : tmpl.find(f.marker) != std::string::npos))
      format = &f;
  if (!format) return out;  // Ollama reads tokenizer.chat_template from the GGUF itself
  out += std::string("TEMPLATE \"\"\"") + format->go_template + "\"\"\"\n";
  for (const char* stop : format->stops) out += std::string("PARAMETER stop \"") + stop + "\"\n";
  return out;
}

}  // namespace paddock
