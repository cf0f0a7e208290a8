// The training checkpoint file: one .safetensors holding every trained parameter (F32, GGUF
// names: the adapter's "blk.N.attn_q.weight.lora_a" or the full model's weights), the AdamW
// moments ("adamw.m.<name>", "adamw.v.<name>") and, in __metadata__, what a resume needs: the
// format version, steps done, AdamW's t, the TrainerConfig as JSON, the base model's identity,
// the TS loop's opaque extra_json (data cursor, RNG state) and a checksum over all of it, so a
// damaged file is refused instead of resuming into a corrupt run. Written to a temp file and
// renamed (io/safetensors_writer.h), so a kill leaves the old checkpoint or the new one.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"
#include "model/model.h"
#include "train/adamw.h"
#include "train/param_set.h"
#include "train/trainer.h"

namespace paddock {

constexpr int kTrainCheckpointVersion = 1;

// Which base a run trains on. A checkpoint is refused on a base with other file bytes or
// parameter count; the path is recorded for messages (a moved file still resumes).
struct BaseModelIdentity {
  std::string path;
  uint64_t file_bytes = 0;
  uint64_t parameter_count = 0;
};
BaseModelIdentity base_model_identity(const Model& m);
// BAD_MODEL_FILE naming `checkpoint_path` and both bases when `saved` is not `base`.
Status check_same_base(const std::string& checkpoint_path, const BaseModelIdentity& saved, const Model& base);

// Everything in a checkpoint besides the tensors.
struct TrainCheckpointMeta {
  TrainerConfig config;
  BaseModelIdentity base;
  int64_t steps_done = 0;
  int64_t adam_t = 0;
  std::string extra_json;  // opaque to the engine; "" when none
};

// `adam` holds one m and one v per parameter of `params`, in its order.
Status write_train_checkpoint(const std::string& path, const TrainCheckpointMeta& meta, const ParamSet& params,
                              const AdamWState& adam);

// Reads and verifies a whole checkpoint without a trainer (export, resume): *config, the
// parameters (in the saved order, gradients zero), *extra_json, and optionally the rest of the
// metadata and the AdamW moments. BAD_MODEL_FILE naming the file for anything truncated,
// corrupt (checksum), of another format version or inconsistent; IO when it cannot be opened.
// The outputs are written only on success. Any output pointer may be null.
Status read_train_checkpoint(const std::string& path, TrainerConfig* config, ParamSet* params,
                             std::string* extra_json, TrainCheckpointMeta* meta = nullptr, AdamWState* adam = nullptr);

// The config as the checkpoint stores it (JSON; seed as a string, floats with round-trip digits)
// and back. Parsing gives BAD_MODEL_FILE naming `source` for a missing or malformed field.
std::string trainer_config_to_json(const TrainerConfig& c);
Status trainer_config_from_json(const std::string& json, const std::string& source, TrainerConfig* out);

}  // namespace paddock
