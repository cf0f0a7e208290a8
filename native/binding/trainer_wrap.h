// NativeTrainer: one training run's native state (trainable parameters, AdamW moments, the
// graph) over a loaded model. Every blocking call (create, step, evaluate, checkpoint I/O,
// exports) runs on a libuv thread and returns a promise, one at a time per trainer, so the TS
// loop awaits one optimizer step at a time and cancel/pause land between steps. Exports of a
// finished run read its checkpoint alone (no trainer).
#pragma once

#include <napi.h>

#include <memory>

#include "model/model.h"
#include "train/trainer.h"

namespace paddock {

class TrainerWrap : public Napi::ObjectWrap<TrainerWrap> {
 public:
  // Adds createTrainer, exportTrainedRun and measureGemmFlops to the exports. The class
  // constructor is kept with the createTrainer function (no slot in AddonData needed).
  static void Register(Napi::Env env, Napi::Object exports);

  explicit TrainerWrap(const Napi::CallbackInfo& info);

 private:
  friend class TrainerJob;
  Napi::Value StepsDone(const Napi::CallbackInfo& info);
  Napi::Value MemoryBytes(const Napi::CallbackInfo& info);
  Napi::Value TrainableParameters(const Napi::CallbackInfo& info);
  Napi::Value Step(const Napi::CallbackInfo& info);
  Napi::Value Evaluate(const Napi::CallbackInfo& info);
  Napi::Value SaveCheckpoint(const Napi::CallbackInfo& info);
  Napi::Value LoadCheckpoint(const Napi::CallbackInfo& info);
  void Dispose(const Napi::CallbackInfo& info);
  // The trainer for a new job, or a rejected promise's status when disposed or busy.
  Status acquire(const char* what);

  std::shared_ptr<Model> model_;       // the base outlives the trainer (Trainer::create's contract)
  std::shared_ptr<Trainer> trainer_;   // shared with a running job
  int64_t steps_done_ = 0;             // mirrored on the JS thread after each job
  bool busy_ = false;
};

}  // namespace paddock
