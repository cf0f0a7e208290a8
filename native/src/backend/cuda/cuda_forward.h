// The Llama forward on the device (the GpuForward of gpu_backend.h): weights of the offloaded
// layers uploaded in their file types (quantized stays quantized), an F16 KV cache, decode
// through fused quant_ops.h matvecs (7-8 launches a layer, a single-token step replayed as a
// CUDA graph unless PADDOCK_CUDA_GRAPHS=0), prefill through dequantized tiles and gemm.h,
// attention_kv. Implementation: cuda_forward.cpp, cuda_forward_decode.cpp.
#pragma once

#include <memory>

#include "backend/gpu/gpu_backend.h"

namespace paddock {

// OUT_OF_MEMORY naming the bytes when the offloaded layers, cache and scratch do not fit;
// UNSUPPORTED naming the tensor for a weight type the kernels lack.
Status create_cuda_forward(std::shared_ptr<const Model> model, const GpuOffload& offload,
                           std::unique_ptr<GpuForward>* out);

}  // namespace paddock
