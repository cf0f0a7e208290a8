// The GPU training graph (see cuda_train_session.h), mirroring model/llama_train.cpp op for op:
// embeddings, per layer RMSNorm -> q/k/v (+LoRA) -> RoPE -> flash attention -> wo -> residual
// -> RMSNorm -> gate/up -> SwiGLU -> down -> residual, the final norm and the classifier with
// masked cross-entropy over the rows that carry loss, in chunks of head_chunk rows (never a
// [T x vocab] matrix); backward in reverse, layer by layer, recomputing a layer first when
// activations are checkpointed. Everything is enqueued on one stream; the host waits only for
// the per-row losses (one small copy per row) and the gradient norm.
#include "backend/cuda/cuda_train_session.h"

#include <algorithm>
#include <cmath>

#include "backend/cpu/ops.h"
#include "backend/cpu/ops_grad.h"
#include "backend/cuda/attention.h"
#include "backend/cuda/cuda_train_activations.h"
#include "backend/cuda/cuda_train_linear.h"
#include "backend/cuda/cuda_train_params.h"
#include "backend/cuda/cuda_train_rows.h"
#include "backend/cuda/gemm.h"
#include "backend/cuda/pointwise_ops.h"
#include "backend/cuda/quant_ops.h"

namespace paddock {

namespace {

using pd_cuda::Elem;
constexpr int TN = (int)pd_cuda::GemmOp::TN;

std::string layer_name(int64_t l, const char* what) { return "blk." + std::to_string(l) + "." + what + ".weight"; }

Status device_error(const char* what) {
  return PD_ERROR(Internal, "GPU training: %s failed: %s", what, pd_gpu::last_error().c_str());
}

class CudaTrainSession final : public GpuTrainSession {
 public:
  Status init(std::shared_ptr<const Model> model, const ParamSet& params, const LoraWeights* lora,
              const GpuTrainOptions& options);

  Status upload(const ParamSet& params, const AdamWState& state) override {
    return params_.upload(params, state, stream_);
  }
  Status download(ParamSet* params, AdamWState* state) override { return params_.download(params, state, stream_); }
  Status zero_grad() override { return params_.zero_grad(stream_); }
  Status forward_backward(const TrainRow& row, float grad_scale, uint64_t dropout_seed, double* loss_sum,
                          double* weight_sum) override {
    return run(row, true, grad_scale, dropout_seed, loss_sum, weight_sum);
  }
  Status forward(const TrainRow& row, double* loss_sum, double* weight_sum) override {
    return run(row, false, 0.0f, 0, loss_sum, weight_sum);
  }
  Status grad_norm(double* norm) override { return params_.grad_norm(norm, stream_); }
  Status adamw_step(double clip_factor, const AdamWConfig& c, double lr, int64_t t) override {
    return params_.adamw_step(clip_factor, c, lr, t, stream_);
  }
  uint64_t device_bytes() const override { return mem_.bytes(); }

 private:
  struct Layer {
    const float* attn_norm = nullptr;
    const float* ffn_norm = nullptr;
    int attn_norm_p = -1, ffn_norm_p = -1;  // full fine-tuning: DeviceParams indices
    GpuLinear lin[kLoraTargetCount];        // by LoraTarget
  };

  Status upload_base(const Model& m, bool full);
  Status frozen_matrix(const Tensor& t, TrainMatrix* out);
  Status frozen_vector(const Tensor& t, const float** out);
  Status param_index(const std::string& name, int64_t rows, int64_t cols, int* out) const;
  Status prepare_row(const TrainRow& row, int64_t* n_head, double* weight_sum);
  void forward_layer(int64_t l, const GpuLayerActivations& a, float* out, int64_t T);
  void backward_layer(int64_t l, const GpuLayerActivations& a, int64_t T);
  void to_bf16(const float* x, int64_t n) { pd_cuda::convert(x, Elem::F32, act_.dy_bf16, Elem::BF16, n, stream_); }
  Status run(const TrainRow& row, bool backward, float grad_scale, uint64_t seed, double* loss_sum,
             double* weight_sum);

  std::shared_ptr<const Model> model_;
  LlamaConfig c_;
  GpuTrainOptions options_;
  LoraConfig lora_config_;
  bool has_lora_ = false;
  pd_stream_t stream_ = nullptr;
  DeviceAllocations mem_;
  DeviceParams params_;
  GpuTrainActivations act_;
  GpuLinearContext lctx_;
  WeightScratch weight_scratch_;
  std::vector<Layer> layers_;
  TrainMatrix embd_;          // token_embd as stored (lookup by get_rows_f32)
  TrainMatrix classifier_;
  int embd_p_ = -1, classifier_p_ = -1, out_norm_p_ = -1;
  const float* out_norm_ = nullptr;
  int64_t scratch_elements_ = 0;  // BF16 dequantization slabs (weight_scratch_elements)
  // host staging of one row
  std::vector<int32_t> seg_start_, head_rows_, head_targets_;
  pd_cuda::TokenGroups token_groups_;  // full fine-tuning: the embedding gradient's groups
  std::vector<float> head_weights_, rope_, head_loss_;
};

Status CudaTrainSession::param_index(const std::string& name, int64_t rows, int64_t cols, int* out) const {
  const int i = params_.index_of(name);
  if (i < 0) return PD_ERROR(InvalidArgument, "GPU training: the parameters lack %s", name.c_str());
  const DeviceParams::Entry& e = params_.entry(i);
  if (e.rows != rows || e.cols != cols)
    return PD_ERROR(InvalidArgument, "GPU training: parameter %s is [%lld, %lld], expected [%lld, %lld]",
                    name.c_str(), (long long)e.rows, (long long)e.cols, (long long)rows, (long long)cols);
  *out = i;
  return Status();
}

// A frozen base matrix uploaded in its file type: QLoRA's base stays quantized on the device.
Status CudaTrainSession::frozen_matrix(const Tensor& t, TrainMatrix* out) {
  if (!pd_cuda::quant_supported(t.type))
    return PD_ERROR(Unsupported, "GPU training: %s has type %s, which the CUDA kernels do not read", t.name.c_str(),
                    dtype_name(t.type));
  unsigned char* d = nullptr;
  PD_TRY(mem_.alloc((int64_t)t.nbytes, "frozen base weights", &d));
  if (!pd_gpu::copy_h2d(d, t.data, t.nbytes, stream_)) return device_error("base weight upload");
  out->type = t.type;
  out->data = d;
  out->bf16 = t.type == DType::BF16 ? (const pd_bf16*)d : nullptr;
  out->rows = t.nrows();
  out->cols = t.ne[0];
  if (!out->bf16)
    scratch_elements_ = std::max(scratch_elements_,
                                 weight_scratch_elements(out->rows, out->cols, weight_scratch_.slab_elements));
  return Status();
}

Status CudaTrainSession::frozen_vector(const Tensor& t, const float** out) {
  std::vector<float> v((size_t)t.nelements());
  get_row_f32(t, 0, v.data());  // norms are one row
  float* d = nullptr;
  PD_TRY(mem_.alloc((int64_t)v.size(), "frozen norm weights", &d));
  if (!pd_gpu::copy_h2d(d, v.data(), v.size() * sizeof(float), stream_)) return device_error("norm upload");
  *out = d;
  return Status();
}

Status CudaTrainSession::upload_base(const Model& m, bool full) {
  const LlamaWeights& w = m.weights;
  auto trained = [&](const std::string& name, int64_t rows, int64_t cols, int* index, TrainMatrix* mat) -> Status {
    PD_TRY(param_index(name, rows, cols, index));
    mat->type = DType::F32;
    mat->data = params_.value(*index);
    mat->bf16 = params_.value_bf16(*index);
    mat->rows = rows;
    mat->cols = cols;
    return Status();
  };
  layers_.assign((size_t)c_.n_layers, Layer{});
  for (int64_t l = 0; l < c_.n_layers; l++) {
    Layer& L = layers_[(size_t)l];
    const LlamaLayer& B = w.layers[(size_t)l];
    const Tensor* base_mats[kLoraTargetCount] = {&B.wq, &B.wk, &B.wv, &B.wo, &B.w_gate, &B.w_up, &B.w_down};
    if (full) {
      PD_TRY(param_index(layer_name(l, "attn_norm"), 1, c_.dim, &L.attn_norm_p));
      PD_TRY(param_index(layer_name(l, "ffn_norm"), 1, c_.dim, &L.ffn_norm_p));
      L.attn_norm = params_.value(L.attn_norm_p);
      L.ffn_norm = params_.value(L.ffn_norm_p);
    } else {
      PD_TRY(frozen_vector(B.attn_norm, &L.attn_norm));
      PD_TRY(frozen_vector(B.ffn_norm, &L.ffn_norm));
    }
    for (int i = 0; i < kLoraTargetCount; i++) {
      GpuLinear& lin = L.lin[i];
      lora_target_shape(c_, (LoraTarget)i, &lin.n_in, &lin.n_out);
      lin.dropout_stream = (uint64_t)l * 8 + (uint64_t)i;
      if (full) {
        PD_TRY(trained(layer_name(l, lora_target_gguf((LoraTarget)i)), lin.n_out, lin.n_in, &lin.param, &lin.w));
        continue;
      }
      PD_TRY(frozen_matrix(*base_mats[i], &lin.w));
      if (!lora_config_.targets_has((LoraTarget)i)) continue;
      const std::string base = layer_name(l, lora_target_gguf((LoraTarget)i));
      PD_TRY(param_index(base + ".lora_a", lora_config_.rank, lin.n_in, &lin.lora_a));
      PD_TRY(param_index(base + ".lora_b", lin.n_out, lora_config_.rank, &lin.lora_b));
    }
  }
  if (full) {
    PD_TRY(trained("token_embd.weight", c_.vocab_size, c_.dim, &embd_p_, &embd_));
    PD_TRY(param_index("output_norm.weight", 1, c_.dim, &out_norm_p_));
    out_norm_ = params_.value(out_norm_p_);
    if (w.output.empty()) {
      classifier_ = embd_;  // tied: token_embd gets both gradients
      classifier_p_ = embd_p_;
    } else {
      PD_TRY(trained("output.weight", c_.vocab_size, c_.dim, &classifier_p_, &classifier_));
    }
  } else {
    PD_TRY(frozen_matrix(w.tok_embd, &embd_));
    PD_TRY(frozen_vector(w.output_norm, &out_norm_));
    if (w.output.empty())
      classifier_ = embd_;
    else
      PD_TRY(frozen_matrix(w.output, &classifier_));
  }
  return Status();
}

Status CudaTrainSession::init(std::shared_ptr<const Model> model, const ParamSet& params, const LoraWeights* lora,
                              const GpuTrainOptions& options) {
  model_ = std::move(model);
  c_ = model_->config;
  options_ = options;
  has_lora_ = lora != nullptr;
  if (lora) lora_config_ = lora->config;
  if (options.max_T < 1) return PD_ERROR(InvalidArgument, "GPU training: max_T must be >= 1");
  if (model_->weights.layers.size() != (size_t)c_.n_layers)
    return PD_ERROR(InvalidArgument, "%s: the model has no weights to train", model_->path.c_str());
  if (c_.head_dim() > 256 || c_.head_dim() % 2)
    return PD_ERROR(Unsupported, "GPU training: head size %lld is not supported (even, at most 256)",
                    (long long)c_.head_dim());
  const ProductTuning& tuning = product_tuning();
  weight_scratch_.slab_elements = std::max<int64_t>(tuning.weight_slab_elements, 1);
  PD_TRY(params_.init(params, &mem_, stream_));
  AdamWState zero;
  zero.init(params);
  PD_TRY(params_.upload(params, zero, stream_));
  PD_TRY(upload_base(*model_, lora == nullptr));
  PD_TRY(act_.init(c_, lora ? &lora_config_ : nullptr, options.max_T, options.checkpoint_activations, &mem_));
  if (scratch_elements_ > 0) PD_TRY(mem_.alloc(scratch_elements_, "BF16 weight slabs", &weight_scratch_.data));
  lctx_.weights = &weight_scratch_;
  lctx_.params = &params_;
  lctx_.stream = stream_;
  lctx_.rank = lora ? lora_config_.rank : 0;
  if (lora) {  // the rank products' split-K slabs: z, dz [T, r], dA [r, n_in], dB [n_out, r]
    lctx_.splitk_elements =
        pd_cuda::splitk_workspace_elements(lctx_.rank, std::max({options.max_T, c_.dim, c_.hidden_dim}));
    PD_TRY(mem_.alloc(lctx_.splitk_elements, "split-K workspace", &lctx_.splitk));
    pd_gpu::DeviceProps props;
    std::string why;
    const int sms = pd_gpu::device_props(options.device, &props, &why) ? props.sm_count : 1;
    lctx_.splitk_sm_count = tuning.splitk_sm_count > 0 ? tuning.splitk_sm_count : std::max(sms, 1);
    lctx_.splitk_min_slice_k = tuning.splitk_min_slice_k;
  }
  lctx_.lora_scale = lora ? lora_config_.scale() : 1.0f;
  lctx_.drop_x = act_.drop_x;
  lctx_.dz = act_.lora_dz;
  lctx_.lora_tmp = act_.lora_tmp;
  if (!pd_gpu::synchronize(stream_)) return device_error("session setup");
  return Status();
}

// Host-side row preparation: segment starts, the RoPE table (the CPU graph's own float angles),
// the classifier rows, all uploaded in one go.
Status CudaTrainSession::prepare_row(const TrainRow& row, int64_t* n_head, double* weight_sum) {
  const int64_t T = row.T, hd = c_.head_dim();
  seg_start_.resize((size_t)T);
  rope_.resize((size_t)(T * hd));
  head_rows_.clear();
  head_targets_.clear();
  head_weights_.clear();
  const float* freq = model_->weights.rope_freqs.empty() ? nullptr : (const float*)model_->weights.rope_freqs.data;
  double wsum = 0.0;
  for (int64_t t = 0; t < T; t++) {
    const bool same = t > 0 && (!row.segments || row.segments[t] == row.segments[t - 1]);
    seg_start_[(size_t)t] = same ? seg_start_[(size_t)t - 1] : (int32_t)t;
    float* r = rope_.data() + t * hd;
    rope_angles_r<float>(row.positions ? row.positions[t] : t, (int)hd, c_.rope_theta, freq, c_.rope_linear_factor, r,
                         r + hd / 2);
    wsum += (double)row.weights[t];
    if (row.weights[t] > 0.0f) {
      head_rows_.push_back((int32_t)t);
      head_targets_.push_back(row.targets[t]);
      head_weights_.push_back(row.weights[t]);
    }
  }
  *n_head = (int64_t)head_rows_.size();
  *weight_sum = wsum;
  const size_t n = head_rows_.size();
  const bool ok = pd_gpu::copy_h2d(act_.tokens, row.tokens, (size_t)T * 4, stream_) &&
                  pd_gpu::copy_h2d(act_.seg_start, seg_start_.data(), (size_t)T * 4, stream_) &&
                  pd_gpu::copy_h2d(act_.rope, rope_.data(), rope_.size() * 4, stream_) &&
                  (n == 0 || (pd_gpu::copy_h2d(act_.head_rows, head_rows_.data(), n * 4, stream_) &&
                              pd_gpu::copy_h2d(act_.head_targets, head_targets_.data(), n * 4, stream_) &&
                              pd_gpu::copy_h2d(act_.head_weights, head_weights_.data(), n * 4, stream_)));
  if (!ok) return device_error("row upload");
  if (embd_p_ < 0) return Status();
  pd_cuda::group_tokens(row.tokens, T, &token_groups_);
  const pd_cuda::TokenGroups& g = token_groups_;
  if (!pd_gpu::copy_h2d(act_.embd_ids, g.ids.data(), g.ids.size() * 4, stream_) ||
      !pd_gpu::copy_h2d(act_.embd_offsets, g.offsets.data(), g.offsets.size() * 4, stream_) ||
      !pd_gpu::copy_h2d(act_.embd_positions, g.positions.data(), g.positions.size() * 4, stream_))
    return device_error("row upload");
  return Status();
}

void CudaTrainSession::forward_layer(int64_t l, const GpuLayerActivations& a, float* out, int64_t T) {
  const Layer& L = layers_[(size_t)l];
  const int64_t dim = c_.dim, hd = c_.head_dim(), kvd = c_.kv_dim(), hid = c_.hidden_dim;
  const int H = (int)c_.n_heads, Hkv = (int)c_.n_kv_heads;
  pd_stream_t s = stream_;
  using LT = LoraTarget;
  // attention block: x_mid = x_in + wo(attention(rope(wq xn1), rope(wk xn1), wv xn1))
  pd_cuda::rmsnorm_forward(a.x_in, L.attn_norm, T, dim, c_.rms_eps, Elem::BF16, a.xn1, a.rstd1, s);
  linear_forward(lctx_, L.lin[(int)LT::Q], a.xn1, T, act_.proj, a.lora[(int)LT::Q]);
  pd_cuda::rope_forward(act_.proj, T, H, (int)hd, act_.rope, s);
  pd_cuda::convert(act_.proj, Elem::F32, a.q, Elem::BF16, T * dim, s);
  linear_forward(lctx_, L.lin[(int)LT::K], a.xn1, T, act_.proj, a.lora[(int)LT::K]);
  pd_cuda::rope_forward(act_.proj, T, Hkv, (int)hd, act_.rope, s);
  pd_cuda::convert(act_.proj, Elem::F32, a.k, Elem::BF16, T * kvd, s);
  linear_forward(lctx_, L.lin[(int)LT::V], a.xn1, T, act_.proj, a.lora[(int)LT::V]);
  pd_cuda::convert(act_.proj, Elem::F32, a.v, Elem::BF16, T * kvd, s);
  pd_cuda::AttnDims d;
  d.T = T, d.n_heads = H, d.n_kv_heads = Hkv, d.head_dim = (int)hd, d.scale = 1.0f / std::sqrt((float)hd);
  pd_cuda::flash_attention_forward(d, a.q, a.k, a.v, act_.seg_start, a.att, a.lse, s);
  linear_forward(lctx_, L.lin[(int)LT::O], a.att, T, act_.proj, a.lora[(int)LT::O]);
  pd_gpu::copy_d2d(a.x_mid, a.x_in, (size_t)(T * dim) * sizeof(float), s);
  pd_cuda::add_inplace(a.x_mid, act_.proj, T * dim, s);
  // feed-forward block: out = x_mid + w_down(silu(w_gate xn2) * w_up xn2)
  pd_cuda::rmsnorm_forward(a.x_mid, L.ffn_norm, T, dim, c_.rms_eps, Elem::BF16, a.xn2, a.rstd2, s);
  linear_forward(lctx_, L.lin[(int)LT::Gate], a.xn2, T, a.gate, a.lora[(int)LT::Gate]);
  linear_forward(lctx_, L.lin[(int)LT::Up], a.xn2, T, a.up, a.lora[(int)LT::Up]);
  pd_cuda::swiglu_forward(a.gate, a.up, T * hid, Elem::BF16, a.h, s);
  linear_forward(lctx_, L.lin[(int)LT::Down], a.h, T, act_.proj, a.lora[(int)LT::Down]);
  pd_gpu::copy_d2d(out, a.x_mid, (size_t)(T * dim) * sizeof(float), s);
  pd_cuda::add_inplace(out, act_.proj, T * dim, s);
}

// act_.dx holds dL/d(layer output) on entry and dL/d(x_in) on return.
void CudaTrainSession::backward_layer(int64_t l, const GpuLayerActivations& a, int64_t T) {
  const Layer& L = layers_[(size_t)l];
  const int64_t dim = c_.dim, hd = c_.head_dim(), kvd = c_.kv_dim(), hid = c_.hidden_dim;
  const int H = (int)c_.n_heads, Hkv = (int)c_.n_kv_heads;
  pd_stream_t s = stream_;
  using LT = LoraTarget;
  auto lin = [&](LT t) -> const GpuLinear& { return L.lin[(int)t]; };
  auto norm_grad = [&](int p) { return p >= 0 ? params_.grad(p) : nullptr; };
  // feed-forward block
  to_bf16(act_.dx, T * dim);
  linear_backward(lctx_, lin(LT::Down), a.h, a.lora[(int)LT::Down], act_.dy_bf16, T, act_.dh, false);
  pd_cuda::swiglu_backward(act_.dh, a.gate, a.up, T * hid, act_.dgate, act_.dup, s);
  to_bf16(act_.dgate, T * hid);
  linear_backward(lctx_, lin(LT::Gate), a.xn2, a.lora[(int)LT::Gate], act_.dy_bf16, T, act_.dxn, false);
  to_bf16(act_.dup, T * hid);
  linear_backward(lctx_, lin(LT::Up), a.xn2, a.lora[(int)LT::Up], act_.dy_bf16, T, act_.dxn, true);
  pd_cuda::rmsnorm_backward(act_.dxn, a.x_mid, L.ffn_norm, a.rstd2, T, dim, act_.dx, true, norm_grad(L.ffn_norm_p),
                            s);
  // attention block
  to_bf16(act_.dx, T * dim);
  linear_backward(lctx_, lin(LT::O), a.att, a.lora[(int)LT::O], act_.dy_bf16, T, act_.datt, false);
  to_bf16(act_.datt, T * dim);
  pd_cuda::AttnDims d;
  d.T = T, d.n_heads = H, d.n_kv_heads = Hkv, d.head_dim = (int)hd, d.scale = 1.0f / std::sqrt((float)hd);
  pd_cuda::flash_attention_backward(d, a.q, a.k, a.v, act_.seg_start, a.att, a.lse, act_.dy_bf16, act_.dq, act_.dk,
                                    act_.dv, act_.attn_workspace, s);
  pd_cuda::rope_backward(act_.dq, T, H, (int)hd, act_.rope, s);
  pd_cuda::rope_backward(act_.dk, T, Hkv, (int)hd, act_.rope, s);
  to_bf16(act_.dq, T * dim);
  linear_backward(lctx_, lin(LT::Q), a.xn1, a.lora[(int)LT::Q], act_.dy_bf16, T, act_.dxn, false);
  to_bf16(act_.dk, T * kvd);
  linear_backward(lctx_, lin(LT::K), a.xn1, a.lora[(int)LT::K], act_.dy_bf16, T, act_.dxn, true);
  to_bf16(act_.dv, T * kvd);
  linear_backward(lctx_, lin(LT::V), a.xn1, a.lora[(int)LT::V], act_.dy_bf16, T, act_.dxn, true);
  pd_cuda::rmsnorm_backward(act_.dxn, a.x_in, L.attn_norm, a.rstd1, T, dim, act_.dx, true, norm_grad(L.attn_norm_p),
                            s);
}

Status CudaTrainSession::run(const TrainRow& row, bool backward, float grad_scale, uint64_t seed, double* loss_sum,
                             double* weight_sum) {
  PD_TRY(check_train_row(c_, row, options_.max_T));
  const int64_t T = row.T, dim = c_.dim, V = c_.vocab_size;
  pd_stream_t s = stream_;
  int64_t n_head = 0;
  PD_TRY(prepare_row(row, &n_head, weight_sum));
  lctx_.dropout = has_lora_ && backward ? options_.lora_dropout : 0.0f;  // evaluation runs without dropout
  lctx_.dropout_seed = seed;

  float* x0 = act_.layers[0].x_in;
  pd_cuda::get_rows_f32(embd_.type, embd_.data, dim, act_.tokens, T, x0, s);
  for (int64_t l = 0; l < c_.n_layers; l++)
    forward_layer(l, act_.layers[(size_t)l], l + 1 < c_.n_layers ? act_.layers[(size_t)l + 1].x_in : act_.x_final, T);
  pd_cuda::rmsnorm_forward(act_.x_final, out_norm_, T, dim, c_.rms_eps, Elem::BF16, act_.xn_final, act_.rstd_final, s);

  // The classifier runs only on positions that carry loss, in chunks of rows.
  pd_cuda::gather_rows_u16(act_.xn_final, dim, act_.head_rows, n_head, dim, act_.head_in, s);
  float* dhead = act_.dxn;  // [n_head, dim]
  for (int64_t r0 = 0; r0 < n_head; r0 += act_.head_chunk) {
    const int64_t R = std::min(act_.head_chunk, n_head - r0);
    const pd_bf16* x = act_.head_in + r0 * dim;
    weight_product_nt(lctx_, classifier_, x, R, act_.logits, V, false);
    pd_cuda::cross_entropy_rows(act_.logits, R, V, act_.head_targets + r0, act_.head_weights + r0, grad_scale,
                                act_.head_loss + r0, backward ? act_.dlogits : nullptr, s);
    if (!backward) continue;
    weight_product_nn(lctx_, classifier_, act_.dlogits, V, R, dhead + r0 * dim, false);
    if (classifier_p_ >= 0)  // dW [V, dim] += dlogits^T x
      gemm_bf16(s, TN, V, dim, R, act_.dlogits, V, x, dim, params_.grad(classifier_p_), false, dim, 1.0f, 1.0f);
  }
  head_loss_.resize((size_t)n_head);
  if (n_head > 0 && !pd_gpu::copy_d2h(head_loss_.data(), act_.head_loss, (size_t)n_head * 4, s))
    return device_error("loss download");
  if (!pd_gpu::synchronize(s)) return device_error(backward ? "forward (training)" : "forward (evaluation)");
  double loss = 0.0;
  for (float v : head_loss_) loss += (double)v;
  *loss_sum = loss;
  if (!backward) return Status();

  // scatter the head rows' gradient back; rows without loss get exact zeros
  float* dxn_final = act_.datt;
  pd_gpu::memset_zero(dxn_final, (size_t)(T * dim) * sizeof(float), s);
  pd_cuda::scatter_rows_f32(dhead, act_.head_rows, n_head, dim, dxn_final, s);
  pd_cuda::rmsnorm_backward(dxn_final, act_.x_final, out_norm_, act_.rstd_final, T, dim, act_.dx, false,
                            out_norm_p_ >= 0 ? params_.grad(out_norm_p_) : nullptr, s);
  for (int64_t l = c_.n_layers - 1; l >= 0; l--) {
    const GpuLayerActivations& a = act_.layers[(size_t)l];
    if (options_.checkpoint_activations)  // refill the shared activations from the kept input
      forward_layer(l, a, l + 1 < c_.n_layers ? act_.layers[(size_t)l + 1].x_in : act_.x_final, T);
    backward_layer(l, a, T);
  }
  if (embd_p_ >= 0)
    pd_cuda::embedding_grad_add(params_.grad(embd_p_), act_.dx, act_.embd_ids, act_.embd_offsets, act_.embd_positions,
                                token_groups_.unique(), dim, s);
  if (!pd_gpu::synchronize(s)) return device_error("backward");
  return Status();
}

}  // namespace

Status create_cuda_train_session(std::shared_ptr<const Model> model, const ParamSet& params, const LoraWeights* lora,
                                 const GpuTrainOptions& options, std::unique_ptr<GpuTrainSession>* out) {
  if (!model) return PD_ERROR(InvalidArgument, "GPU training needs a loaded base model");
  auto session = std::make_unique<CudaTrainSession>();
  PD_TRY(session->init(std::move(model), params, lora, options));
  *out = std::move(session);
  return Status();
}

}  // namespace paddock
