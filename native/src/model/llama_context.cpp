#include "model/llama_context.h"

#include <algorithm>
#include <cstring>

#include "backend/cpu/fpu_mode.h"
#include "backend/cpu/ops.h"
#include "backend/gpu/gpu_backend.h"
#include "backend/gpu/gpu_registry.h"
#include "core/sysinfo.h"

namespace paddock {

LlamaContext::~LlamaContext() = default;

Status LlamaContext::create(std::shared_ptr<const Model> model, int64_t n_ctx, int n_threads,
                            std::unique_ptr<LlamaContext>* out, KvType kv_type, const ContextDevice& device) {
  const Model& m = *model;
  if (m.vocab_only) {
    return PD_ERROR(Unsupported, "%s holds only a vocabulary (no tensors): it can tokenize but not run",
                    m.path.c_str());
  }
  if (n_ctx <= 0) n_ctx = std::min<int64_t>(m.config.context_length, kDefaultContext);
  if (n_ctx > (1 << 24)) {
    return PD_ERROR(InvalidArgument, "context length %lld is too large (at most %d)", (long long)n_ctx, 1 << 24);
  }
  if (n_threads <= 0) n_threads = default_thread_count();
  if (n_threads > 256) return PD_ERROR(InvalidArgument, "thread count %d is too large (at most 256)", n_threads);

  std::unique_ptr<LlamaContext> ctx(new LlamaContext());
  ctx->model_ = model;
  ctx->cpu_layers_ = m.config.n_layers;
  ctx->info_.layer_count = m.config.n_layers;
  ctx->kv_.n_ctx = n_ctx;  // attach_gpu sizes the device cache from it
  if (device.kind != ContextDevice::Cpu) {
    Status st = ctx->attach_gpu(device);
    if (!st.ok()) {
      if (device.kind == ContextDevice::Cuda) return st;
      ctx->info_.notice = st.message() + "; running on the CPU";
    }
  }
  // The host KV cache holds the layers the CPU runs (all of them without a GPU).
  LlamaConfig host_layers = m.config;
  host_layers.n_layers = ctx->cpu_layers_;
  const uint64_t kv_bytes = KvCache::bytes_for(host_layers, n_ctx, kv_type);
  const uint64_t ram = total_memory_bytes();
  if (ram > 0 && kv_bytes > ram) {
    return PD_ERROR(OutOfMemory, "a KV cache for %lld positions needs %.2f GiB, more than this machine's %.2f GiB",
                    (long long)n_ctx, kv_bytes / 1073741824.0, ram / 1073741824.0);
  }
  PD_TRY(ctx->kv_.init(host_layers, n_ctx, kv_type));
  PD_TRY(ctx->scratch_.init(m.config, std::min(n_ctx, kMaxChunk), n_ctx, n_threads));
  ctx->pool_.reset(new ThreadPool(n_threads));
  *out = std::move(ctx);
  return Status();
}

Status LlamaContext::decode(const int32_t* tokens, int64_t n, std::vector<float>* logits) {
  const Model& m = *model_;
  if (n <= 0) return PD_ERROR(InvalidArgument, "decode needs at least one token");
  if (pos_ + n > kv_.n_ctx) {
    return PD_ERROR(InvalidArgument, "context overflow: position %lld + %lld tokens exceeds the context length %lld",
                    (long long)pos_, (long long)n, (long long)kv_.n_ctx);
  }
  for (int64_t i = 0; i < n; i++) {
    if (tokens[i] < 0 || tokens[i] >= m.config.vocab_size) {
      return PD_ERROR(InvalidArgument, "token %d at index %lld is outside the vocabulary (0..%lld)", tokens[i],
                      (long long)i, (long long)m.config.vocab_size - 1);
    }
  }
  ScopedFlushDenormals ftz;
  for (int64_t i = 0; i < n; i += scratch_.max_tokens) {
    const int64_t T = std::min(scratch_.max_tokens, n - i);
    if (!gpu_) {
      llama_forward(m, *pool_, kv_, scratch_, tokens + i, T, pos_, i + T == n, &lora_);
    } else {
      // Partial offload: the CPU's layers first, then the device from their residual stream.
      if (cpu_layers_ > 0)
        llama_forward_first_layers(m, *pool_, kv_, scratch_, tokens + i, T, pos_, cpu_layers_, &lora_);
      PD_TRY(gpu_->forward(tokens + i, cpu_layers_ > 0 ? scratch_.x.f32() : nullptr, T, pos_, i + T == n,
                           scratch_.logits.f32()));
    }
    pos_ += T;
  }
  logits->resize((size_t)m.config.vocab_size);
  std::memcpy(logits->data(), scratch_.logits.data(), logits->size() * sizeof(float));
  return Status();
}

Status LlamaContext::set_adapters(std::vector<LoraStackEntry> adapters) {
  PD_TRY(lora_.set(model_->config, std::move(adapters), scratch_.max_tokens));
  pos_ = 0;
  if (gpu_) PD_TRY(gpu_->set_adapters(lora_.entries()));
  return Status();
}

Status LlamaContext::truncate(int64_t position) {
  if (position < 0 || position > pos_) {
    return PD_ERROR(InvalidArgument, "truncate position %lld must be between 0 and the current position %lld",
                    (long long)position, (long long)pos_);
  }
  pos_ = position;
  return Status();
}

Status LlamaContext::shift(int64_t keep, int64_t discard) {
  if (keep < 0 || discard <= 0 || keep + discard > pos_) {
    return PD_ERROR(InvalidArgument,
                    "shift needs 0 <= keep, 0 < discard and keep + discard <= the current position %lld (got keep "
                    "%lld, discard %lld)",
                    (long long)pos_, (long long)keep, (long long)discard);
  }
  const LlamaConfig& c = model_->config;
  const int64_t moved = pos_ - keep - discard, hd = c.head_dim();
  const Tensor& freqs = model_->weights.rope_freqs;
  const float* freq_factors = freqs.empty() ? nullptr : (const float*)freqs.data;
  // Rotations compose: a key rotated for position p, rotated again by -discard, is the key for
  // position p - discard (up to rounding).
  std::vector<float> rot((size_t)hd);
  rope_angles(-discard, (int)hd, c.rope_theta, freq_factors, c.rope_linear_factor, rot.data(), rot.data() + hd / 2);
  ScopedFlushDenormals ftz;
  pool_->run([&](int ith, int nth) {  // layers split over the pool
    int64_t l0, l1;
    split_range(kv_.n_layers, ith, nth, &l0, &l1);
    std::vector<float> key((size_t)kv_.kv_dim);
    for (int64_t l = l0; l < l1; l++) {
      const size_t row_bytes = (size_t)kv_.kv_dim * kv_.elem_bytes();
      std::memmove(kv_.k_row(l, keep), kv_.k_row(l, keep + discard), (size_t)moved * row_bytes);
      std::memmove(kv_.v_row(l, keep), kv_.v_row(l, keep + discard), (size_t)moved * row_bytes);
      for (int64_t p = keep; p < keep + moved; p++) {
        kv_.load(kv_.k_row(l, p), key.data(), 1);
        rope_apply(key.data(), (int)c.n_kv_heads, (int)hd, rot.data(), rot.data() + hd / 2);
        kv_.store(kv_.k_row(l, p), key.data(), 1);
      }
    }
  });
  if (gpu_) PD_TRY(gpu_->shift(keep, discard, pos_));
  pos_ -= discard;
  return Status();
}

// Loads the last gpu_layers layers on the device; an error (with the reason) leaves the context
// on the CPU.
Status LlamaContext::attach_gpu(const ContextDevice& device) {
  GpuBackend* backend = device.backend;
  if (!backend) {
    backend = cuda_backend();
    if (!backend) {
      const GpuBackendStatus& st = cuda_backend_status();
      if (!st.compiled && device.kind == ContextDevice::Auto) return Status();  // a CPU-only build: nothing to tell
      return PD_ERROR(Unsupported, "CUDA unavailable: %s",
                      st.why.empty() ? "the CUDA module is not part of this build" : st.why.c_str());
    }
  }
  std::string why;
  const std::vector<GpuDeviceInfo> devices = backend->devices(&why);
  const GpuDeviceInfo* dev = nullptr;
  for (const GpuDeviceInfo& d : devices)
    if (d.index == device.device) dev = &d;
  if (!dev) {
    if (devices.empty())
      return PD_ERROR(Unsupported, "CUDA unavailable: %s", why.empty() ? "no usable device" : why.c_str());
    return PD_ERROR(Unsupported, "CUDA device %d not found (%zu usable)", device.device, devices.size());
  }
  const int64_t n_layers = model_->config.n_layers;
  const int64_t gpu_layers = device.gpu_layers < 0 ? n_layers : std::min(device.gpu_layers, n_layers);
  if (gpu_layers == 0) return Status();  // asked for none: the CPU runs everything
  GpuOffload o;
  o.device = device.device;
  o.gpu_layers = gpu_layers;
  o.n_ctx = kv_.n_ctx;
  o.max_chunk = std::min(kv_.n_ctx, kMaxChunk);
  Status st = backend->load_forward(model_, o, &gpu_);
  if (!st.ok()) {
    gpu_.reset();
    return make_error(st.code(), __FILE__, __LINE__, "CUDA could not load the model on %s: %s", dev->name.c_str(),
                      st.message().c_str());
  }
  cpu_layers_ = gpu_->first_layer();
  info_.name = "cuda";
  info_.device_name = dev->name;
  info_.gpu_layers = n_layers - cpu_layers_;
  return Status();
}

const ContextBackendInfo& LlamaContext::backend_info() const {
  info_.device_bytes = gpu_ ? gpu_->device_bytes() : 0;
  return info_;
}

}  // namespace paddock
