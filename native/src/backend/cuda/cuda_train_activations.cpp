#include "backend/cuda/cuda_train_activations.h"

#include <algorithm>

#include "backend/cuda/attention.h"

namespace paddock {

Status GpuTrainActivations::init(const LlamaConfig& c, const LoraConfig* lora, int64_t max_T, bool checkpoint,
                                 DeviceAllocations* mem) {
  const int64_t T = max_T, dim = c.dim, kvd = c.kv_dim(), hid = c.hidden_dim, V = c.vocab_size;
  const int64_t wide = std::max(dim, hid);
  auto layer_set = [&](GpuLayerActivations* a) -> Status {
    PD_TRY(mem->alloc(T * dim, "activations (xn1)", &a->xn1));
    PD_TRY(mem->alloc(T, "activations (rstd1)", &a->rstd1));
    PD_TRY(mem->alloc(T * dim, "activations (q)", &a->q));
    PD_TRY(mem->alloc(T * kvd, "activations (k)", &a->k));
    PD_TRY(mem->alloc(T * kvd, "activations (v)", &a->v));
    PD_TRY(mem->alloc(T * dim, "activations (attention)", &a->att));
    PD_TRY(mem->alloc(T * c.n_heads, "activations (lse)", &a->lse));
    PD_TRY(mem->alloc(T * dim, "activations (x_mid)", &a->x_mid));
    PD_TRY(mem->alloc(T * dim, "activations (xn2)", &a->xn2));
    PD_TRY(mem->alloc(T, "activations (rstd2)", &a->rstd2));
    PD_TRY(mem->alloc(T * hid, "activations (gate)", &a->gate));
    PD_TRY(mem->alloc(T * hid, "activations (up)", &a->up));
    PD_TRY(mem->alloc(T * hid, "activations (h)", &a->h));
    for (int i = 0; i < kLoraTargetCount; i++) {
      a->lora[i] = nullptr;
      if (lora && lora->targets_has((LoraTarget)i)) PD_TRY(mem->alloc(T * lora->rank, "activations (LoRA)", &a->lora[i]));
    }
    return Status();
  };
  layers.assign((size_t)c.n_layers, GpuLayerActivations{});
  for (size_t l = 0; l < layers.size(); l++) {
    PD_TRY(mem->alloc(T * dim, "activations (layer input)", &layers[l].x_in));
    if (!checkpoint || l == 0) {
      float* x_in = layers[l].x_in;
      PD_TRY(layer_set(&layers[l]));
      layers[l].x_in = x_in;
    } else {  // checkpointing: every layer shares layer 0's set, refilled by recomputation
      float* x_in = layers[l].x_in;
      layers[l] = layers[0];
      layers[l].x_in = x_in;
    }
  }
  PD_TRY(mem->alloc(T * dim, "activations (final)", &x_final));
  PD_TRY(mem->alloc(T * dim, "activations (final norm)", &xn_final));
  PD_TRY(mem->alloc(T, "activations (final rstd)", &rstd_final));
  PD_TRY(mem->alloc(T * dim, "classifier rows", &head_in));
  head_chunk = std::min<int64_t>(256, T);
  PD_TRY(mem->alloc(head_chunk * V, "logits chunk", &logits));
  PD_TRY(mem->alloc(head_chunk * V, "logits gradient chunk", &dlogits));
  PD_TRY(mem->alloc(T, "row losses", &head_loss));
  PD_TRY(mem->alloc(T, "tokens", &tokens));
  PD_TRY(mem->alloc(T, "segments", &seg_start));
  PD_TRY(mem->alloc(T, "classifier row ids", &head_rows));
  PD_TRY(mem->alloc(T, "targets", &head_targets));
  PD_TRY(mem->alloc(T, "loss weights", &head_weights));
  PD_TRY(mem->alloc(T * c.head_dim(), "RoPE table", &rope));
  const int64_t groups = lora ? 1 : T;  // only full fine-tuning trains the embeddings
  PD_TRY(mem->alloc(groups, "embedding gradient groups", &embd_ids));
  PD_TRY(mem->alloc(groups + 1, "embedding gradient groups", &embd_offsets));
  PD_TRY(mem->alloc(groups, "embedding gradient groups", &embd_positions));
  PD_TRY(mem->alloc(T * std::max(dim, kvd), "projection scratch", &proj));
  PD_TRY(mem->alloc(T * dim, "gradient scratch (dx)", &dx));
  PD_TRY(mem->alloc(T * dim, "gradient scratch (dxn)", &dxn));
  PD_TRY(mem->alloc(T * dim, "gradient scratch (datt)", &datt));
  PD_TRY(mem->alloc(T * dim, "gradient scratch (dq)", &dq));
  PD_TRY(mem->alloc(T * kvd, "gradient scratch (dk)", &dk));
  PD_TRY(mem->alloc(T * kvd, "gradient scratch (dv)", &dv));
  PD_TRY(mem->alloc(T * hid, "gradient scratch (dh)", &dh));
  PD_TRY(mem->alloc(T * hid, "gradient scratch (dgate)", &dgate));
  PD_TRY(mem->alloc(T * hid, "gradient scratch (dup)", &dup));
  PD_TRY(mem->alloc(T * wide, "gradient scratch (BF16 dy)", &dy_bf16));
  const bool dropout = lora && lora->dropout > 0.0f;
  PD_TRY(mem->alloc(dropout ? T * wide : 1, "LoRA dropout scratch", &drop_x));
  PD_TRY(mem->alloc(dropout ? T * wide : 1, "LoRA dropout gradient scratch", &lora_tmp));
  PD_TRY(mem->alloc(lora ? T * lora->rank : 1, "LoRA gradient scratch", &lora_dz));
  pd_cuda::AttnDims d;
  d.T = T, d.n_heads = (int)c.n_heads, d.n_kv_heads = (int)c.n_kv_heads, d.head_dim = (int)c.head_dim();
  unsigned char* ws = nullptr;
  PD_TRY(mem->alloc((int64_t)pd_cuda::flash_attention_workspace_bytes(d), "attention workspace", &ws));
  attn_workspace = ws;
  return Status();
}

}  // namespace paddock
