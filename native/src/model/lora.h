// LoRA adapters (Hu et al.): y = W x + scale * B (A x), scale = alpha / rank, A [rank, n_in]
// random, B [n_out, rank] zero, so a fresh adapter is an exact no-op. The adapter's tensors live
// in a ParamSet under llama.cpp's LoRA-adapter names ("blk.N.attn_q.weight.lora_a" / ".lora_b");
// LoraWeightsT is the per-layer table of pointers into it that the forward/backward use.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "model/llama_config.h"
#include "train/param_set.h"

namespace paddock {

enum class LoraTarget : int { Q = 0, K, V, O, Gate, Up, Down };
constexpr int kLoraTargetCount = 7;
constexpr uint32_t kAllLoraTargets = (1u << kLoraTargetCount) - 1;

const char* lora_target_key(LoraTarget t);   // "q", "k", "v", "o", "gate", "up", "down" (CLI --targets)
const char* lora_target_gguf(LoraTarget t);  // "attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"
const char* lora_target_hf(LoraTarget t);    // "self_attn.q_proj", ..., "mlp.down_proj" (PEFT module paths)
// "q,k,v,o" -> bit mask (bit i = target i). INVALID_ARGUMENT naming an unknown or empty entry.
Status parse_lora_targets(const std::string& csv, uint32_t* mask);
// The matrix shape a target adapts in layer config `c`: n_in (A's columns) and n_out (B's rows).
void lora_target_shape(const LlamaConfig& c, LoraTarget t, int64_t* n_in, int64_t* n_out);

struct LoraConfig {
  int rank = 8;
  float alpha = 16.0f;
  float dropout = 0.0f;  // on the input of A, training only
  uint32_t targets = kAllLoraTargets;

  float scale() const { return alpha / (float)rank; }
  bool targets_has(LoraTarget t) const { return (targets >> (int)t) & 1u; }
};

template <class R>
struct LoraWeightsT {
  struct Pair {
    ParamT<R>* a = nullptr;  // [rank, n_in]
    ParamT<R>* b = nullptr;  // [n_out, rank]
  };
  LoraConfig config;
  std::vector<std::array<Pair, kLoraTargetCount>> layers;  // [n_layers]; nullptr pairs: not targeted
};
using LoraWeights = LoraWeightsT<float>;

// Adds A and B for every targeted matrix of every layer to `params` (layer-major, targets in
// enum order): A ~ U(-1/sqrt(n_in), 1/sqrt(n_in)) (PEFT's kaiming_uniform(a=sqrt(5))) from a
// generator seeded with `seed`, B = 0. INVALID_ARGUMENT for rank < 1, no targets, dropout
// outside [0, 1).
template <class R>
Status lora_create(const LlamaConfig& c, const LoraConfig& lc, uint64_t seed, ParamSetT<R>* params,
                   LoraWeightsT<R>* out);
// Builds the pointer table over `params` that already hold the adapter tensors (a checkpoint
// or an adapter file), checking names and shapes: BAD_MODEL_FILE naming `source` and the tensor.
template <class R>
Status lora_bind(const LlamaConfig& c, const LoraConfig& lc, ParamSetT<R>* params, const std::string& source,
                 LoraWeightsT<R>* out);

}  // namespace paddock
