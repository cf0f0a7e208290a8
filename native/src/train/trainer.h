// A training run's native state and its one operation, the optimizer step: forward/backward
// over the rows of the step's micro-batches (gradient accumulation), global-norm clipping, the
// learning rate from the schedule, AdamW. The loop around it (data order, packing, progress,
// cancel/pause, when to checkpoint) is TypeScript in the engine process, which awaits one step
// at a time.
//
// The step runs on the CPU (TrainGraph) or on a GPU (a GpuTrainSession of the CUDA module,
// which keeps parameters, gradients and moments on the device): the same sequence, the same
// clipping rule and the same checkpoint file, so a run may resume on the other device.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "model/llama_train.h"
#include "model/lora.h"
#include "model/model.h"
#include "train/adamw.h"
#include "train/lr_schedule.h"
#include "train/param_set.h"

namespace paddock {

class ThreadPool;
class GpuBackend;

enum class TrainMethod { Full, Lora };  // QLoRA = Lora on a quantized base (nothing else differs)

enum class TrainDeviceKind { Cpu, Cuda, Auto };  // Auto: CUDA when usable, else the CPU with a notice

struct TrainDevice {
  TrainDeviceKind kind = TrainDeviceKind::Cpu;
  int index = 0;                  // CUDA device
  GpuBackend* backend = nullptr;  // tests: this backend instead of the registry's CUDA module
};

// Where the run trains, for the UI: name "cpu" or "cuda", the device's name, the bytes the run
// holds there, and why Auto fell back to the CPU (empty otherwise).
struct TrainerBackendInfo {
  std::string name = "cpu";
  std::string device_name;
  uint64_t device_bytes = 0;
  std::string notice;
};

struct TrainerConfig {
  TrainMethod method = TrainMethod::Lora;
  LoraConfig lora;
  AdamWConfig optimizer;
  ScheduleConfig schedule;
  int64_t max_seq_len = 512;            // longest row a step may contain
  bool checkpoint_activations = false;
  uint64_t seed = 0;                    // LoRA A init and dropout
  int n_threads = 1;
  TrainDevice device;                   // not part of checkpoints: a run may resume elsewhere
};

struct StepResult {
  int64_t step = 0;          // 1-based number of the step just taken
  double loss = 0.0;         // weighted mean loss over the step's rows (before the update)
  double grad_norm = 0.0;    // global L2 norm before clipping
  double lr = 0.0;           // the learning rate this step used
  int64_t tokens = 0;        // tokens processed (all positions of all rows)
  int64_t loss_tokens = 0;   // positions with weight > 0
  double seconds = 0.0;      // wall time of the step
};

class Trainer {
 public:
  // Builds the trainable parameters (LoRA: fresh adapter from config.seed; full: F32 master
  // copies) and the graph. `base` must outlive the trainer. OUT_OF_MEMORY when parameters,
  // gradients, moments and activations do not fit, with the bytes needed.
  static Status create(const Model* base, const TrainerConfig& config, std::unique_ptr<Trainer>* out);
  ~Trainer();

  // One optimizer step over `rows` (>= 1). INVALID_ARGUMENT for a bad row (check_train_row) or
  // when every position of every row has weight 0; nothing is updated then.
  Status step(const std::vector<TrainRow>& rows, StepResult* out);
  // Mean weighted loss over `rows` without updating anything.
  Status evaluate(const std::vector<TrainRow>& rows, double* mean_loss);

  // Writes parameters, AdamW moments, step count, config and `extra_json` (the TS loop's data
  // cursor and RNG state, opaque here) to `path` via a temp file and a rename: a kill at any
  // moment leaves either the old checkpoint or the new one.
  Status save_checkpoint(const std::string& path, const std::string& extra_json) const;
  // Restores a checkpoint written by save_checkpoint into a trainer created with the same
  // config (BAD_MODEL_FILE naming the file for a mismatch); *extra_json gets what was saved.
  // Must match: the base (file bytes, parameter count), method, LoRA rank/alpha/dropout/targets,
  // seed, and every parameter's name and shape. May differ: optimizer, schedule (a resumed run
  // may raise its total steps), max_seq_len, threads (bitwise equal losses need the same count).
  // Parameters, AdamW moments and the step count are restored bit for bit; on any error the
  // trainer is unchanged. train/train_checkpoint.h reads a checkpoint without a trainer.
  Status load_checkpoint(const std::string& path, std::string* extra_json);

  int64_t steps_done() const;
  const TrainerConfig& config() const;
  // Adapter tensors (LoRA) or every weight (full); on a GPU run the host copy is refreshed
  // from the device first.
  const ParamSet& params() const;
  int64_t trainable_parameters() const;  // element count; never touches the device
  // The same, writable: to start from an existing adapter, and for tests (golden values).
  // Names and shapes must not change.
  ParamSet* mutable_params();
  const LoraWeights* lora() const;      // nullptr for full fine-tuning
  size_t memory_bytes() const;          // parameters + gradients + moments + activations
  const TrainerBackendInfo& backend_info() const;

 private:
  Trainer();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace paddock
