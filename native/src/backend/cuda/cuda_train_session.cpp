#include "backend/cuda/cuda_train_session.h"

namespace paddock {

Status create_cuda_train_session(std::shared_ptr<const Model> model, const ParamSet& params, const LoraWeights* lora,
                                 const GpuTrainOptions& options, std::unique_ptr<GpuTrainSession>* out) {
  return PD_ERROR(Unsupported, "CUDA training is being written (placeholder until it lands)");
}

}  // namespace paddock
