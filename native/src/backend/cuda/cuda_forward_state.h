// The state of the device forward (cuda_forward.h), shared by its two files:
// cuda_forward.cpp (set-up, prefill through GEMMs, the KV shift, adapters, forward()) and
// cuda_forward_decode.cpp (the fused kMatvecTokens path and its CUDA graph). Internal to the
// CUDA module.
#pragma once

#include <array>
#include <initializer_list>
#include <memory>
#include <vector>

#include "backend/cuda/attention.h"
#include "backend/cuda/cuda_weights.h"
#include "backend/cuda/gpu_runtime.h"
#include "backend/cuda/pointwise_ops.h"
#include "backend/gpu/gpu_backend.h"

namespace paddock {
namespace cuda_fwd {

using pd_cuda::Elem;

constexpr int64_t kMatvecTokens = 8;  // quant_matvec up to here, dequantize + GEMM beyond

struct DeviceLayer {
  float* attn_norm = nullptr;
  float* ffn_norm = nullptr;
  DeviceMatrix wq, wk, wv, wo, gate, up, down;
  pd_half* k_cache = nullptr;  // [n_ctx][kv_dim]
  pd_half* v_cache = nullptr;
};

// One adapter's pair for one matrix, F32 on the device: y += scale * B (A x).
struct DeviceLoraPair {
  const float* a = nullptr;  // [rank][n_in]
  const float* b = nullptr;  // [n_out][rank]
  int64_t rank = 0, n_in = 0, n_out = 0;
  float scale = 0.0f;
};

// A matrix input [T][n] F32 whose BF16 copy (for the tensor-core path) is made on first use
// and shared by the matrices reading the same input (q, k, v; gate, up).
struct MatInput {
  const float* x;
  int64_t n, T;
  pd_bf16* bf16_scratch;
  pd_stream_t s;
  bool converted = false;
  const pd_bf16* bf16() {
    if (!converted) pd_cuda::convert(x, Elem::F32, bf16_scratch, Elem::BF16, T * n, s);
    converted = true;
    return bf16_scratch;
  }
};

// Byte offsets in the step-input block of chunks of up to max_chunk tokens, head size hd:
// pos0 at 0, the tokens at `tokens`, the RoPE rows at `rope` (16-byte aligned parts). A call of T
// tokens uploads the first upload_bytes(T) bytes.
struct StepInputs {
  size_t tokens, rope, bytes, row_bytes;
  StepInputs(int64_t max_chunk, int64_t hd)
      : tokens(16),
        rope(16 + ((size_t)max_chunk * sizeof(int32_t) + 15) / 16 * 16),
        bytes(rope + (size_t)(max_chunk * hd) * sizeof(float)),
        row_bytes((size_t)hd * sizeof(float)) {}
  size_t upload_bytes(int64_t T) const { return rope + (size_t)T * row_bytes; }
};

class CudaForward final : public GpuForward {
 public:
  ~CudaForward() override;
  int64_t first_layer() const override { return first_; }
  uint64_t device_bytes() const override { return arena_.allocated() + lora_arena_.allocated(); }

  Status init(std::shared_ptr<const Model> model, const GpuOffload& o);
  Status forward(const int32_t* tokens, const float* x_in, int64_t T, int64_t pos0, bool want_logits,
                 float* logits) override;
  Status shift(int64_t keep, int64_t discard, int64_t n_past) override;
  Status set_adapters(const std::vector<LoraStackEntry>& adapters) override;

 private:
  std::shared_ptr<const Model> model_;
  LlamaConfig c_;
  int64_t first_ = 0, n_ctx_ = 0, max_chunk_ = 0;
  int device_ = 0;
  pd_stream_t s_ = nullptr;  // the forward's own (capturable) stream
  DeviceArena arena_;        // weights, KV cache, scratch
  DeviceArena lora_arena_;   // adapters and their scratch
  std::vector<DeviceLayer> layers_;  // layers [first_, n_layers)
  DeviceMatrix tok_embd_, classifier_;
  float* output_norm_ = nullptr;
  // scratch, [max_chunk] rows each
  float *x_ = nullptr, *xb_ = nullptr, *q_ = nullptr, *kb_ = nullptr, *vb_ = nullptr;
  float *hb_ = nullptr, *hb2_ = nullptr, *logits_ = nullptr;
  // A step's inputs, one device block uploaded by one copy per forward call (a pageable copy
  // costs microseconds; decode makes one per token): [pos0 | tokens | RoPE rows], each part
  // 16-byte aligned. StepInputs gives the offsets; step_host_ is the staging copy.
  unsigned char* step_in_ = nullptr;
  int32_t* pos0_ = nullptr;        // the chunk's first position, read by the matvec path's kernels
  int32_t* tokens_ = nullptr;
  float* rope_ = nullptr;
  std::vector<unsigned char> step_host_;
  void* attn_scratch_ = nullptr;   // attention_kv_decode's split partials
  pd_bf16* act_bf16_ = nullptr;  // [max_chunk][max(dim, hidden)]  GEMM inputs
  pd_bf16* w_bf16_ = nullptr;    // one dequantized slab of rows (product_tuning.h), the largest any matrix needs
  int64_t slab_elements_ = 0;    // the slab bound, read at init
  // adapters: [offloaded layer][target] -> pairs of the active adapters
  std::vector<std::array<std::vector<DeviceLoraPair>, kLoraTargetCount>> lora_;
  float* lora_ax_ = nullptr;  // [max_chunk][max rank]
  bool graphs_ = true;                    // PADDOCK_CUDA_GRAPHS != 0 and capture works
  pd_gpu::pd_graph_t decode_graph_ = nullptr;  // one T = 1 step with logits, captured lazily
  bool graph_warm_ = false;  // a plain matvec step ran since the last drop_graph (lazy set-ups done)

  void layout(DeviceArena& a, bool gemm_path);
  Status check_done(const char* what, bool uploads = false);
  Status bind_device();
  Status upload(void* dst, const void* src, size_t bytes, const char* what);
  void linear(const DeviceMatrix& W, MatInput& in, float* y, bool accumulate = false);
  void apply_lora(int64_t layer, LoraTarget t, const MatInput& in, float* y);
  bool has_lora(int64_t layer, std::initializer_list<LoraTarget> targets) const;
  pd_cuda::AttnDims attn_dims(int64_t T) const;
  void add_attention_output(int64_t l, int64_t T);              // x += wo att (+ LoRA)
  void gate_up_lora_swiglu(int64_t l, const MatInput& ffn_in);  // adapters on gate/up, then SwiGLU
  void add_ffn_output(int64_t l, int64_t T);                    // x += down h (+ LoRA)
  void embed(int64_t T);
  void last_logits(int64_t T);
  void run_layer(int64_t l, int64_t T, int64_t pos0);
  void run_layer_matvec(int64_t l, int64_t T);
  void run_matvec_step(int64_t T, bool want_logits);
  Status run_decode_graph();
  void drop_graph();
};

}  // namespace cuda_fwd
}  // namespace paddock
