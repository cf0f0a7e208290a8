#include "backend/cuda/cuda_forward.h"

namespace paddock {

Status create_cuda_forward(std::shared_ptr<const Model> model, const GpuOffload& offload,
                           std::unique_ptr<GpuForward>* out) {
  return PD_ERROR(Unsupported, "the CUDA forward is being written (placeholder until it lands)");
}

}  // namespace paddock
