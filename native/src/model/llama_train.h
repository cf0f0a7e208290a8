// The Llama training graph: forward over a packed row keeping the activations each backward op
// needs (llm.c style, one struct of per-layer buffers), then backward into parameter gradients.
// Two things can be trained: every weight (full fine-tuning, R master copies in a ParamSet) or
// a LoRA adapter over the frozen base (any weight type the forward runs, quantized included:
// W^T dY is computed on dequantized tiles, never a dequantized whole matrix).
//
// A template over the real type R: float in the engine (fast CPU kernels), double in the
// finite-difference and golden tests (reference loops), same code path otherwise.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/status.h"
#include "model/lora.h"
#include "model/model.h"
#include "train/param_set.h"

namespace paddock {

class ThreadPool;

// One packed training row of T tokens. Several samples may share a row (sequence packing):
// positions restart at 0 for each, and token t attends only tokens s <= t of its own segment.
struct TrainRow {
  const int32_t* tokens = nullptr;     // [T] inputs
  const int32_t* targets = nullptr;    // [T] the token to predict after each input (any valid id where weight is 0)
  const float* weights = nullptr;      // [T] loss weight per position: 0 masks it (prompt tokens, padding)
  const int32_t* positions = nullptr;  // [T] RoPE positions; nullptr: 0..T-1
  const int32_t* segments = nullptr;   // [T] sample id per token, non-decreasing; nullptr: one sample
  int64_t T = 0;
};

// INVALID_ARGUMENT when a token or target id is outside the vocabulary, a weight is negative or
// not finite, segments decrease, or T is 0 or above max_T.
Status check_train_row(const LlamaConfig& c, const TrainRow& row, int64_t max_T);

// What is trained. Exactly one of `full` and `lora` is set.
template <class R>
struct TrainModelT {
  const Model* base = nullptr;           // config, and the frozen weights for LoRA
  ParamSetT<R>* full = nullptr;          // full fine-tuning: every weight (full_params_from_model)
  const LoraWeightsT<R>* lora = nullptr;  // LoRA: the adapter's tables (its ParamSet holds values and grads)
  bool checkpoint_activations = false;   // keep only each layer's input; recompute the layer in backward
};

// Master copies of every trainable weight of `m` (token_embd, per layer the nine tensors,
// output_norm, output when untied; never rope_freqs), converted or dequantized to R, under
// their GGUF names, in GGUF order.
template <class R>
Status full_params_from_model(const Model& m, ParamSetT<R>* params);

// Owns the activations and scratch for rows of up to max_T tokens.
template <class R>
class TrainGraphT {
 public:
  TrainGraphT();
  ~TrainGraphT();
  TrainGraphT(const TrainGraphT&) = delete;
  TrainGraphT& operator=(const TrainGraphT&) = delete;

  // OUT_OF_MEMORY (with the byte count) when the activations do not fit.
  Status init(const TrainModelT<R>& m, int64_t max_T, int n_threads);

  // Forward and backward over one row. *loss_sum = sum_t w[t] * CE(logits[t], targets[t]) and
  // *weight_sum = sum_t w[t] (in double). Gradients of grad_scale * loss_sum are ADDED to the
  // trained parameters' grad (so rows and micro-batches accumulate; the caller passes
  // 1 / total weight of the optimizer step and zeroes grads between steps). Positions with
  // weight 0 contribute exactly nothing. dropout_seed drives LoRA dropout for this row.
  Status forward_backward(ThreadPool& pool, const TrainRow& row, R grad_scale, uint64_t dropout_seed,
                          double* loss_sum, double* weight_sum);

  // Forward only (evaluation, tests): the same sums; `logits` (optional) receives [T, vocab].
  Status forward(ThreadPool& pool, const TrainRow& row, double* loss_sum, double* weight_sum,
                 std::vector<R>* logits = nullptr);

  size_t activation_bytes() const;  // what init allocated, for memory estimates and the UI

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

using TrainModel = TrainModelT<float>;
using TrainGraph = TrainGraphT<float>;

}  // namespace paddock
