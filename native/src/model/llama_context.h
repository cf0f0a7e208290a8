// An inference context: a KV cache of n_ctx positions, activation scratch and a thread pool
// over one shared Model. decode() appends tokens at the current position; truncate() forgets
// positions so a shared prefix can be reused. One decode at a time per context.
//
// Device: the layers run on the CPU, on a CUDA GPU (backend/gpu/gpu_backend.h GpuForward), or
// split: the LAST gpu_layers layers and the head on the GPU (llama.cpp's -ngl), the embeddings
// and the first layers on the CPU with their KV cache in host memory, the residual stream handed
// over per chunk. The CPU path is untouched when no GPU is used.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backend/cpu/threadpool.h"
#include "model/kv_cache.h"
#include "model/llama_forward.h"
#include "model/lora_stack.h"
#include "model/model.h"

namespace paddock {

class GpuBackend;
class GpuForward;

struct ContextDevice {
  // Auto: CUDA when a device is usable, else (or when loading there fails, e.g. out of memory)
  // the CPU with a notice saying why. Cpu: never touches the GPU module. Cuda: an error when no
  // device is usable or the layers do not fit. C++ callers (the CPU tests) default to the CPU;
  // the app's default is Auto (binding/model_wrap.cpp).
  enum Kind { Auto, Cpu, Cuda } kind = Cpu;
  int device = 0;
  int64_t gpu_layers = -1;         // layers on the GPU counted from the last; -1: all
  GpuBackend* backend = nullptr;   // tests: this backend instead of the registry's cuda_backend()
};

// Where a context runs, for the app ("running on the CPU because ...").
struct ContextBackendInfo {
  std::string name = "cpu";        // "cpu" or "cuda"
  std::string device_name;         // the GPU's name; the empty string on the CPU
  int64_t gpu_layers = 0;
  int64_t layer_count = 0;
  uint64_t device_bytes = 0;       // GPU memory held (weights, KV cache, scratch)
  std::string notice;              // why the context got less than asked; empty when it got it
};

class LlamaContext {
 public:
  // n_ctx <= 0: min(model context length, kDefaultContext). n_threads <= 0: default_thread_count().
  // kv_type: F16 halves the cache (and attention's memory traffic); F32 is exact.
  static Status create(std::shared_ptr<const Model> model, int64_t n_ctx, int n_threads,
                       std::unique_ptr<LlamaContext>* out, KvType kv_type = KvType::F16,
                       const ContextDevice& device = ContextDevice());
  ~LlamaContext();
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
  const ContextBackendInfo& backend_info() const;

 private:
  Status attach_gpu(const ContextDevice& device);

  std::shared_ptr<const Model> model_;
  std::unique_ptr<ThreadPool> pool_;
  KvCache kv_;
  ForwardScratch scratch_;
  LoraStack lora_;
  int64_t pos_ = 0;
  std::unique_ptr<GpuForward> gpu_;  // the layers from gpu_->first_layer() on, when set
  int64_t cpu_layers_ = 0;           // layers run on the CPU (all when gpu_ is null)
  mutable ContextBackendInfo info_;
};

}  // namespace paddock
