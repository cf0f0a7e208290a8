// Random-weight llama GGUFs of real shapes (DESIGN.md "Synthetic shapes"), for benchmarks and
// tests at realistic sizes without downloading weights. Tensors are generated row by row from a
// counter-based RNG (the same bytes for a seed whatever the thread count) and quantized while
// the file is written, so a 7B model never sits in memory.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/status.h"
#include "infer/vocab.h"

namespace paddock {

// The vocabulary a shape carries when real ones are available: Llama 2's SentencePiece 32K,
// Llama 3's byte-level BPE 128K, or the small generated one (stories260k, and any shape when no
// vocabulary folder is given).
enum class SynthVocabKind { Generated, Llama2, Llama3 };

struct SynthShape {
  std::string name;
  int64_t dim = 0, hidden = 0, layers = 0, heads = 0, kv_heads = 0, vocab = 0, context = 2048;
  bool tied = false;
  float rope_theta = 10000.0f;
  bool llama3_rope = false;  // writes rope_freqs.weight (Llama 3.1 scaling: factor 32, orig. ctx 8192)
  SynthVocabKind vocab_kind = SynthVocabKind::Generated;
};

// The file types `synth` writes: llama.cpp's ALL_F32, MOSTLY_F16, MOSTLY_Q8_0, MOSTLY_Q4_0, MOSTLY_Q4_K_M,
// MOSTLY_BF16 (what HF checkpoints hold: the GPU training benchmark's base).
enum class SynthType { F32, F16, Q8_0, Q4_0, Q4_K_M, BF16 };

// stories260k, stories15m, tinyllama-1.1b, llama-3.2-1b, llama-2-7b. INVALID_ARGUMENT otherwise.
Status synth_shape_by_name(const std::string& name, SynthShape* out);
// "f32", "f16", "q8_0", "q4_0", "q4_k_m", "bf16" (any case). INVALID_ARGUMENT otherwise.
Status synth_type_by_name(const std::string& name, SynthType* out);
const char* synth_type_name(SynthType t);

// The per-tensor type llama.cpp's quantizer would pick for `tensor` (a GGUF name) with rows of
// ne0 elements: Q4_K_M = Q4_K, with Q6_K for output (and a tied token_embd) and for attn_v /
// ffn_down in the "more bits" layers; a type whose block does not divide ne0 falls back to
// Q8_0, then F32. 1-D tensors are F32.
DType synth_tensor_type(SynthType t, const std::string& tensor, int64_t ne0, int n_dims, int layer, int n_layers,
                        bool tied);

// The SentencePiece-style vocabulary written into synthetic files: <unk> <s> </s>, the 256 byte
// tokens <0x00>..<0xFF>, then generated pieces ("▁a", "a", "▁b", ... over a-z, lengths 1..4)
// with descending scores, up to `size` entries.
void synth_vocab(int64_t size, std::vector<std::string>* pieces, std::vector<float>* scores,
                 std::vector<int32_t>* types);

// The vocabulary of `shape`: from vocab_dir (resources/tokenizers: llama2/tokenizer.model,
// llama3/tokenizer.model, llama3/chat_template.jinja) for the real kinds, generated otherwise
// or when vocab_dir is empty. *chat_template: the template to ship with it ("" for none).
// BAD_MODEL_FILE when a real vocabulary's size differs from the shape's.
Status synth_shape_vocab(const SynthShape& shape, const std::string& vocab_dir, Vocab* out, std::string* chat_template);

// Writes the model to `path` (temp file, then rename). Weights: N(0, 1/fan_in) matrices, norms
// near 1, and an output matrix (token_embd when tied) scaled so logits have a standard
// deviation of about 12: next-token distributions are peaked, top-1 margins of several logits.
// vocab_dir: see synth_shape_vocab.
Status write_synthetic_gguf(const std::string& path, const SynthShape& shape, SynthType type, uint64_t seed,
                            const std::string& vocab_dir = "");

// The same, with every tensor's type chosen by `pick(name, ne0, n_dims, layer)` (layer -1 outside
// the blocks) instead of a file type: tests use it to cover every quant type the engine runs.
using SynthTypePicker = std::function<DType(const std::string& name, int64_t ne0, int n_dims, int layer)>;
Status write_synthetic_gguf_with(const std::string& path, const SynthShape& shape, const SynthTypePicker& pick,
                                 uint32_t file_type, const std::string& type_label, uint64_t seed,
                                 const std::string& vocab_dir = "");

}  // namespace paddock
