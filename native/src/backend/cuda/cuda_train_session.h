// A training run on the device (the GpuTrainSession of gpu_backend.h): frozen base weights in
// BF16 (dequantized from a quantized base: QLoRA), F32 master copies of the trained parameters,
// their gradients and AdamW moments; activations of one packed row, BF16 where a tensor-core
// product reads them; attention by flash_attention_*; the classifier and cross-entropy in
// chunks of rows, never a [T x vocab] logits matrix.
#pragma once

#include <memory>

#include "backend/gpu/gpu_backend.h"

namespace paddock {

Status create_cuda_train_session(std::shared_ptr<const Model> model, const ParamSet& params, const LoraWeights* lora,
                                 const GpuTrainOptions& options, std::unique_ptr<GpuTrainSession>* out);

}  // namespace paddock
