// LoRA adapters applied at inference without merging (llama.cpp's "--lora" way): for every
// attached adapter i that targets a matrix W, the forward computes
//   y = W x + sum_i scale_i * (alpha_i / rank_i) * B_i (A_i x)
// right after W x (before RoPE for q/k), so any base type (quantized included) is left as is and
// adapters can be switched or rescaled on a loaded context. scale_i is the user's multiplier,
// as in llama.cpp (1 = the adapter as trained); an entry with scale 0 is skipped entirely.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/buffer.h"
#include "core/status.h"
#include "model/lora.h"
#include "model/model.h"

namespace paddock {

class ThreadPool;

// An adapter held for inference: its tensors (F32, GGUF LoRA names) and the table into them.
// Built in place and never moved (the table points into `params`), hence shared_ptr.
struct LoraAdapter {
  std::string source;  // the file it came from, for messages and the UI
  LoraConfig config;
  ParamSet params;
  LoraWeights weights;
};

// Takes `params` (already holding A and B under GGUF LoRA names) and binds them for `base`:
// BAD_MODEL_FILE naming `source` and the tensor when one is missing or misshapen.
Status lora_adapter_from_params(const Model& base, const LoraConfig& lc, ParamSet params, const std::string& source,
                                std::shared_ptr<LoraAdapter>* out);
// Reads a GGUF LoRA file or a PEFT folder (io/adapter_gguf.h, io/adapter_peft.h) for `base`.
Status lora_adapter_load(const Model& base, const std::string& path, std::shared_ptr<LoraAdapter>* out);

// A synthetic adapter for tests and benches: lora_create's A (seeded), and B drawn uniformly
// from [-b_range, b_range] (a fresh adapter's B is 0, which would change nothing).
Status lora_create_random(const LlamaConfig& c, const LoraConfig& lc, uint64_t seed, float b_range, ParamSet* params);

struct LoraStackEntry {
  std::shared_ptr<const LoraAdapter> adapter;
  float scale = 1.0f;
};

// The adapters attached to one context, with the scratch their products need.
class LoraStack {
 public:
  // INVALID_ARGUMENT when an adapter was made for another shape than `c` (names the adapter) or
  // a scale is not finite. Chunks of up to max_tokens tokens.
  Status set(const LlamaConfig& c, std::vector<LoraStackEntry> entries, int64_t max_tokens);
  // True when no entry would change anything (none, or every scale 0): the forward skips it.
  bool inactive() const { return active_.empty(); }
  const std::vector<LoraStackEntry>& entries() const { return entries_; }

  // y[t] += sum over active adapters targeting (layer, target) of s * B (A x[t]), t < T; x is
  // [T, n_in], y [T, n_out] of that matrix.
  void apply(ThreadPool& pool, int64_t layer, LoraTarget target, const float* x, int64_t T, float* y);

 private:
  std::vector<LoraStackEntry> entries_;
  std::vector<size_t> active_;  // indexes of entries with scale != 0
  Buffer ax_;                   // [max_tokens, max rank]   A x
  Buffer bax_;                  // [max_tokens, max n_out]  B (A x)
  int64_t max_tokens_ = 0;
};

}  // namespace paddock
