// An inference context: a KV cache of n_ctx positions, activation scratch and a thread pool
// over one shared Model. decode() appends tokens at the current position; truncate() forgets
// positions so a shared prefix can be reused. One decode at a time per context.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "backend/cpu/threadpool.h"
#include "model/kv_cache.h"
#include "model/llama_forward.h"
#include "model/lora_stack.h"
#include "model/model.h"

namespace paddock {

class LlamaContext {
 public:
  // n_ctx <= 0: min(model context length, kDefaultContext). n_threads <= 0: default_thread_count().
  // kv_type: F16 halves the cache (and attention's memory traffic); F32 is exact.
  static Status create(std::shared_ptr<const Model> model, int64_t n_ctx, int n_threads,
                       std::unique_ptr<LlamaContext>* out, KvType kv_type = KvType::F16);
  static constexpr int64_t kDefaultContext = 4096;
  static constexpr int64_t kMaxChunk = 256;  // tokens per forward call during prefill

  // Runs `tokens` at the current position and advances it; `logits` receives the last token's
  // logits (vocab floats). INVALID_ARGUMENT for an empty batch, an id outside the vocabulary or
  // a batch that does not fit in the context (nothing is changed then).
  Status decode(const int32_t* tokens, int64_t n, std::vector<float>* logits);
  Status truncate(int64_t position);
  // Context shift (for a full context): forgets positions [keep, keep + discard) and slides the
  // later ones down by `discard`, re-rotating their keys by RoPE for the new positions, so
  // decoding continues at position() - discard.
  Status shift(int64_t keep, int64_t discard);
  // Attaches LoRA adapters (replacing those attached before; empty detaches them all) without
  // touching the base model. The KV cache holds keys and values computed with the old set, so
  // the position goes back to 0. Adapters made for another shape: INVALID_ARGUMENT, nothing changed.
  Status set_adapters(std::vector<LoraStackEntry> adapters);
  const std::vector<LoraStackEntry>& adapters() const { return lora_.entries(); }

  int64_t position() const { return pos_; }
  int64_t context_length() const { return kv_.n_ctx; }
  int threads() const { return pool_->size(); }
  KvType kv_type() const { return kv_.type; }
  const Model& model() const { return *model_; }

 private:
  std::shared_ptr<const Model> model_;
  std::unique_ptr<ThreadPool> pool_;
  KvCache kv_;
  ForwardScratch scratch_;
  LoraStack lora_;
  int64_t pos_ = 0;
};

}  // namespace paddock
