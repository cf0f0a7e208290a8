// The interface between the core (always loaded) and a GPU backend module (paddock_cuda.so,
// loaded at run time by gpu_registry.h, so the CPU build works where no CUDA runtime or driver
// exists). Only core types cross it; both sides are built by the same CMake project.
//
// Inference: a GpuForward owns the weights of layers [first_layer, n_layers) plus the output
// head on the device, with those layers' KV cache. Layers before first_layer run on the CPU
// (partial offload for small cards); the CPU hands over the residual stream. Training: a
// GpuTrainSession runs forward/backward, the gradient norm and AdamW of one run on the device,
// and trades parameters and moments with the host only for checkpoints and exports.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "model/llama_train.h"
#include "model/lora_stack.h"
#include "model/model.h"
#include "train/adamw.h"
#include "train/param_set.h"

namespace paddock {

struct GpuDeviceInfo {
  int index = 0;
  std::string name;
  uint64_t total_bytes = 0;
  uint64_t free_bytes = 0;
  int cc_major = 0, cc_minor = 0;
  bool bf16 = false;       // sm_80+: BF16 tensor cores (training needs them)
  bool emulated = false;   // the CPU emulator used by tests, never a real GPU
  // Which tensor-core GEMM serves this device, and why not the faster one: "wgmma (sm_90a)" or
  // "mma.sync (wgmma: not a sm_90 device (sm_86))". Shown by `devices` and the device panel.
  std::string matmul;
};

struct GpuOffload {
  int device = 0;
  int64_t gpu_layers = -1;   // layers on the GPU, counted from the last one; -1 or >= n_layers: all
  int64_t n_ctx = 0;         // KV cache positions (the context's length)
  int64_t max_chunk = 256;   // tokens per forward call (prefill chunk)
};

class GpuForward {
 public:
  virtual ~GpuForward() = default;
  virtual int64_t first_layer() const = 0;  // 0 when every layer is on the GPU
  // Runs tokens[0..T) at positions pos0.. through layers [first_layer, n_layers). When
  // first_layer is 0 the embeddings are looked up on the device from `tokens`; otherwise
  // x_in [T, dim] is the residual stream the CPU layers produced. With want_logits,
  // logits [vocab] receives the last token's logits (host memory).
  virtual Status forward(const int32_t* tokens, const float* x_in, int64_t T, int64_t pos0, bool want_logits,
                         float* logits) = 0;
  // KV cache edits mirroring LlamaContext::shift (positions >= n_ctx are never read).
  virtual Status shift(int64_t keep, int64_t discard, int64_t n_past) = 0;
  // Adapters applied unmerged, as LoraStack does on the CPU (empty: none).
  virtual Status set_adapters(const std::vector<LoraStackEntry>& adapters) = 0;
  virtual uint64_t device_bytes() const = 0;  // weights + KV cache + scratch held on the device
};

class GpuTrainSession {
 public:
  virtual ~GpuTrainSession() = default;
  // Host -> device: the trainable parameters' values and the optimizer state (moments, t).
  virtual Status upload(const ParamSet& params, const AdamWState& state) = 0;
  // Device -> host: values and moments (checkpoints, exports, evaluation on the CPU).
  virtual Status download(ParamSet* params, AdamWState* state) = 0;
  virtual Status zero_grad() = 0;
  // As TrainGraph::forward_backward: gradients of grad_scale * loss_sum added on the device.
  virtual Status forward_backward(const TrainRow& row, float grad_scale, uint64_t dropout_seed, double* loss_sum,
                                  double* weight_sum) = 0;
  virtual Status forward(const TrainRow& row, double* loss_sum, double* weight_sum) = 0;
  virtual Status grad_norm(double* norm) = 0;
  // Scales gradients by clip_factor (1: none), then one fused AdamW update at lr; state.t + 1
  // is the step's bias-correction count.
  virtual Status adamw_step(double clip_factor, const AdamWConfig& c, double lr, int64_t t) = 0;
  virtual uint64_t device_bytes() const = 0;
};

struct GpuTrainOptions {
  int device = 0;
  int64_t max_T = 512;
  bool checkpoint_activations = false;
  float lora_dropout = 0.0f;
};

class GpuBackend {
 public:
  virtual ~GpuBackend() = default;
  virtual const char* name() const = 0;  // "cuda"
  // Devices found; an empty list with *why saying what is missing (driver, device).
  virtual std::vector<GpuDeviceInfo> devices(std::string* why) = 0;
  virtual Status load_forward(std::shared_ptr<const Model> model, const GpuOffload& offload,
                              std::unique_ptr<GpuForward>* out) = 0;
  // `lora` is null for full fine-tuning (params then hold every weight, full_params_from_model).
  virtual Status create_train_session(std::shared_ptr<const Model> model, const ParamSet& params,
                                      const LoraWeights* lora, const GpuTrainOptions& options,
                                      std::unique_ptr<GpuTrainSession>* out) = 0;
};

// The module's one exported symbol (C linkage, versioned): a process-lifetime backend.
using GpuBackendEntry = GpuBackend* (*)();
constexpr const char* kCudaBackendEntry = "paddock_cuda_backend_v1";

}  // namespace paddock
