#include "io/model_export.h"

#include <cstdlib>

#include "backend/cpu/ops.h"
#include "io/synthetic_gguf.h"
#include "io/vocab_export.h"

namespace paddock {

std::string model_chat_template(const Model& m) {
  for (const auto& [key, value] : m.metadata)
    if (key == "tokenizer.chat_template" && value.kind == MetaValue::String) return value.string;
  return "";
}

// llama.cpp's LLAMA_FTYPE for the matrix type: ALL_F32 0, MOSTLY_F16 1, MOSTLY_Q4_0 2,
// MOSTLY_Q8_0 7, MOSTLY_Q4_K_M 15 (Q4_K here means the Q4_K_M mix), MOSTLY_BF16 32.
static uint32_t llama_file_type(DType t) {
  switch (t) {
    case DType::F16: return 1;
    case DType::Q4_0: return 2;
    case DType::Q8_0: return 7;
    case DType::Q4_K: return 15;
    case DType::BF16: return 32;
    default: return 0;
  }
}

// "blk.12.attn_v.weight" -> 12; -1 for tensors outside the blocks.
static int block_index(const std::string& name) {
  if (name.compare(0, 4, "blk.") != 0) return -1;
  return std::atoi(name.c_str() + 4);
}

DType export_tensor_type(const Model& m, const Tensor& t, DType matrix_type) {
  if (t.n_dims == 1) return DType::F32;
  DType out = matrix_type;
  if (matrix_type == DType::Q4_K) {
    out = synth_tensor_type(SynthType::Q4_K_M, t.name, t.ne[0], t.n_dims, block_index(t.name),
                            (int)m.config.n_layers, m.weights.output.empty());
    if (out == DType::F32) out = DType::F16;  // llama.cpp's last fallback for a 2-D tensor
  }
  // Quantized: rows whose length is not a whole number of blocks stay F16 (as llama.cpp's
  // quantizer falls back).
  if (!dtype_is_float(out) && t.ne[0] % dtype_block_size(out) != 0) out = DType::F16;
  return out;
}

Status model_to_gguf(const Model& m, DType matrix_type, GgufWriter* w) {
  GgufExportOptions opts;
  opts.matrix_type = matrix_type;
  return model_to_gguf(m, opts, w);
}

Status model_to_gguf(const Model& m, const GgufExportOptions& opts, GgufWriter* w) {
  const DType matrix_type = opts.matrix_type;
  if (!dtype_is_float(matrix_type) && matrix_type != DType::Q8_0 && matrix_type != DType::Q4_0 &&
      matrix_type != DType::Q4_K) {
    return PD_ERROR(InvalidArgument, "GGUF export type must be F32, F16, BF16, Q8_0, Q4_0 or Q4_K (Q4_K_M), got %s",
                    dtype_name(matrix_type));
  }
  if (!m.has_vocab) return PD_ERROR(InvalidArgument, "%s was opened without a vocabulary; cannot export it", m.path.c_str());
  const LlamaConfig& c = m.config;
  w->set_string("general.architecture", "llama");
  w->set_string("general.name", m.name);
  w->set_u32("general.file_type", llama_file_type(matrix_type));
  w->set_u32("llama.context_length", (uint32_t)c.context_length);
  w->set_u32("llama.embedding_length", (uint32_t)c.dim);
  w->set_u32("llama.block_count", (uint32_t)c.n_layers);
  w->set_u32("llama.feed_forward_length", (uint32_t)c.hidden_dim);
  w->set_u32("llama.rope.dimension_count", (uint32_t)c.head_dim());
  w->set_u32("llama.attention.head_count", (uint32_t)c.n_heads);
  w->set_u32("llama.attention.head_count_kv", (uint32_t)c.n_kv_heads);
  w->set_f32("llama.rope.freq_base", c.rope_theta);
  w->set_f32("llama.attention.layer_norm_rms_epsilon", c.rms_eps);
  w->set_u32("llama.vocab_size", (uint32_t)c.vocab_size);

  if (c.rope_linear_factor != 1.0f) {
    w->set_string("llama.rope.scaling.type", "linear");
    w->set_f32("llama.rope.scaling.factor", c.rope_linear_factor);
  }
  // The tokenizer of the kind the model came with ("gpt2" + merges for Llama 3), so it reloads.
  PD_TRY(set_vocab_kvs(m.vocab, model_chat_template(m), w));

  if (m.vocab_only) return Status();
  for_each_weight(m.weights, [&](const Tensor& t) {
    std::vector<int64_t> ne(t.ne, t.ne + t.n_dims);
    const DType out = export_tensor_type(m, t, matrix_type);
    ExportRowSource source = opts.rows ? opts.rows(t) : ExportRowSource();
    if (dtype_is_float(out) && !source) {
      w->add_tensor(t.name, out, ne, t.data, t.type);
      return;
    }
    // Quantized or replaced: every row goes through float, whatever the source type.
    size_t row_bytes = 0;
    dtype_row_bytes(out, t.ne[0], &row_bytes);
    const Tensor src = t;
    if (!source) source = [src](int64_t r, float* row) { get_row_f32(src, r, row); };
    w->add_tensor_rows(t.name, out, ne, [src, out, row_bytes, source](int64_t row0, int64_t n_rows, uint8_t* dst) -> Status {
      std::vector<float> row((size_t)src.ne[0]);
      for (int64_t r = 0; r < n_rows; r++) {
        source(row0 + r, row.data());
        if (!row_from_f32(out, row.data(), dst + (size_t)r * row_bytes, src.ne[0])) {
          return PD_ERROR(Internal, "tensor '%s': cannot write a row as %s", src.name.c_str(), dtype_name(out));
        }
      }
      return Status();
    });
  });
  return Status();
}

Status export_gguf(const Model& m, const std::string& out_path, const GgufExportOptions& opts) {
  GgufWriter w;
  PD_TRY(model_to_gguf(m, opts, &w));
  return w.write_file(out_path);
}

Status export_gguf(const Model& m, const std::string& out_path, DType matrix_type) {
  GgufWriter w;
  PD_TRY(model_to_gguf(m, matrix_type, &w));
  return w.write_file(out_path);
}

}  // namespace paddock
