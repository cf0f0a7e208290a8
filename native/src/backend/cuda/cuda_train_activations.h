// What the GPU training graph keeps between forward and backward for one packed row of up to
// max_T tokens (train_activations.h's fields, on the device): BF16 where a tensor-core product
// or flash attention reads the tensor, F32 for the residual stream, the SwiGLU inputs, rstd
// and lse. With checkpointing every layer keeps only x_in; the other fields of all layers
// point at one shared set that backward refills by recomputing the layer.
#pragma once

#include <cstdint>
#include <vector>

#include "backend/cuda/cuda_train_memory.h"
#include "backend/cuda/cuda_types.h"
#include "model/llama_config.h"
#include "model/lora.h"

namespace paddock {

struct GpuLayerActivations {
  float* x_in;      // [T, dim]     residual stream into the layer (kept in both modes)
  pd_bf16* xn1;     // [T, dim]     rmsnorm(x_in) * attn_norm
  float* rstd1;     // [T]
  pd_bf16* q;       // [T, dim]     after RoPE
  pd_bf16* k;       // [T, kv_dim]  after RoPE
  pd_bf16* v;       // [T, kv_dim]
  pd_bf16* att;     // [T, dim]     attention output: input of wo
  float* lse;       // [T, n_heads]
  float* x_mid;     // [T, dim]     x_in + wo(att)
  pd_bf16* xn2;     // [T, dim]
  float* rstd2;     // [T]
  float* gate;      // [T, hidden]  gate pre-activation
  float* up;        // [T, hidden]
  pd_bf16* h;       // [T, hidden]  silu(gate) * up: input of down
  pd_bf16* lora[kLoraTargetCount];  // [T, rank] scale * A dropout(x), nullptr when not adapted
};

struct GpuTrainActivations {
  std::vector<GpuLayerActivations> layers;
  float* x_final;       // [T, dim]
  pd_bf16* xn_final;    // [T, dim]  classifier input
  float* rstd_final;    // [T]
  pd_bf16* head_in;     // [T, dim]  xn_final rows that carry loss (gathered)
  int64_t head_chunk;   // rows of logits per classifier chunk
  float* logits;        // [head_chunk, vocab] F32, overwritten by its gradient
  pd_bf16* dlogits;     // [head_chunk, vocab] the gradient in BF16 for the products
  float* head_loss;     // [T]       weighted loss of each gathered row
  // per-row inputs (uploaded each row)
  int32_t* tokens;      // [T]
  int32_t* seg_start;   // [T]
  int32_t* head_rows;   // [T]       positions with weight > 0, ascending
  int32_t* head_targets;  // [T]
  float* head_weights;  // [T]
  float* rope;          // [T, head_dim] cos | sin
  int32_t* embd_ids;        // [T]     full fine-tuning: the row's distinct tokens (TokenGroups)
  int32_t* embd_offsets;    // [T + 1]
  int32_t* embd_positions;  // [T]
  // scratch
  float* proj;          // [T, max(dim, kv_dim)] F32 product output (q/k/v before RoPE, wo, w_down)
  float* dx;            // [T, dim]
  float* dxn;           // [T, dim]  (also the gathered head rows' gradient)
  float* datt;          // [T, dim]  (also the classifier input's gradient)
  float *dq, *dk, *dv;  // [T, dim], [T, kv_dim], [T, kv_dim]
  float *dh, *dgate, *dup;  // [T, hidden]
  pd_bf16* dy_bf16;     // [T, max(dim, hidden)] the current product's dy in BF16
  pd_bf16* drop_x;      // [T, max(dim, hidden)] LoRA dropout
  float* lora_tmp;      // [T, max(dim, hidden)]
  pd_bf16* lora_dz;     // [T, rank]
  void* attn_workspace;

  Status init(const LlamaConfig& c, const LoraConfig* lora, int64_t max_T, bool checkpoint, DeviceAllocations* mem);
};

}  // namespace paddock
