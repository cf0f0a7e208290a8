// What the training graph keeps between forward and backward (llm.c style: one struct, a shape
// comment per field), and the scratch of the backward. With checkpoint_activations every layer
// keeps only x_in; the other fields of all layers point at one shared set that backward
// refills by recomputing the layer's forward from x_in.
#pragma once

#include <cstdint>
#include <vector>

#include "core/buffer.h"
#include "core/status.h"
#include "model/llama_config.h"
#include "model/lora.h"

namespace paddock {

template <class R>
struct LayerActivations {
  R* x_in;    // [T, dim]      the layer's input (residual stream): kept in both modes
  R* xn1;     // [T, dim]      rmsnorm(x_in) * attn_norm: input of q, k, v
  R* rstd1;   // [T]           its 1 / rms
  R* q;       // [T, dim]      queries after RoPE
  R* k;       // [T, kv_dim]   keys after RoPE
  R* v;       // [T, kv_dim]   values
  R* att;     // [T, dim]      attention output: input of wo
  R* lse;     // [T, n_heads]  log-sum-exp of each attention row
  R* x_mid;   // [T, dim]      x_in + wo(att)
  R* xn2;     // [T, dim]      rmsnorm(x_mid) * ffn_norm: input of gate, up
  R* rstd2;   // [T]
  R* gate;    // [T, hidden]   gate pre-activation
  R* up;      // [T, hidden]   up projection
  R* h;       // [T, hidden]   silu(gate) * up: input of down
  R* lora[kLoraTargetCount];  // [T, rank] scale * A dropout(x) per adapted matrix, else nullptr
};

template <class R>
struct TrainActivations {
  std::vector<LayerActivations<R>> layers;  // [n_layers]
  R* x_final;   // [T, dim]     output of the last layer
  R* xn_final;  // [T, dim]     rmsnorm(x_final) * output_norm: the classifier's input
  R* rstd_final;  // [T]
  R* head_in;   // [T, dim]     xn_final rows of positions with weight > 0 (gathered)
  R* logits;    // [T, vocab]   logits of the gathered rows, then their gradient
  R* rope;      // [T, head_dim] cos (first half) and sin (second half) per token
  // backward scratch
  R* dx;        // [T, dim]     gradient of the residual stream
  R* dxn;       // [T, dim]     gradient of a norm's output (and of the gathered head rows)
  R* datt;      // [T, dim]     gradient of the attention output
  R* proj;      // [T, dim]     wo / w_down output before the residual add (forward)
  R* dq;        // [T, dim]
  R* dk;        // [T, kv_dim]
  R* dv;        // [T, kv_dim]
  R* dh;        // [T, hidden]
  R* dgate;     // [T, hidden]
  R* dup;       // [T, hidden]
  R* lora_drop_x;  // [T, max(dim, hidden)] dropped-out LoRA input; LoRA's dx before the mask
  R* lora_tmp;     // [T, max(dim, hidden)] B's product before it is added
  R* lora_dz;      // [T, rank]
  R* attn_scratch;  // attention_scratch_elems(T, n_threads)
  std::vector<int32_t> seg_start;  // [T] first token of each token's segment
  std::vector<int32_t> head_rows;  // [T] positions whose logits are computed, ascending
  std::vector<double> row_loss;    // [T] weighted loss per gathered row, summed in order

  // Sizes every buffer for rows of up to max_T tokens; OUT_OF_MEMORY with the byte count.
  Status init(const LlamaConfig& c, const LoraConfig* lora, int64_t max_T, int n_threads, bool checkpoint);
  size_t bytes() const { return storage_.size(); }

 private:
  Buffer storage_;
};

}  // namespace paddock
