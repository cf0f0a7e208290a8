// A training run on the device (the GpuTrainSession of gpu_backend.h), LoRA/QLoRA or full
// fine-tuning. Frozen base weights stay in their file type (a quantized base stays quantized:
// QLoRA's saving); before each product a matrix is dequantized slab by slab into one bounded
// BF16 scratch (cuda_train_linear.h: weight_slab_rows; a BF16 base is read as is). Trained parameters: F32 values, grads and
// AdamW moments in contiguous arrays plus a BF16 mirror for the products (cuda_train_params.h).
// Activations of one packed row (cuda_train_activations.h), attention by flash_attention_*,
// the classifier and cross-entropy over the rows that carry loss in chunks of 256 rows, never
// a [T x vocab] logits matrix. LoRA dropout draws the CPU's hash masks (cuda_train_rows.h).
#pragma once

#include <memory>

#include "backend/gpu/gpu_backend.h"

namespace paddock {

Status create_cuda_train_session(std::shared_ptr<const Model> model, const ParamSet& params, const LoraWeights* lora,
                                 const GpuTrainOptions& options, std::unique_ptr<GpuTrainSession>* out);

}  // namespace paddock
