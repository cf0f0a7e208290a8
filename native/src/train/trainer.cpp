#include "train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>

#include "backend/cpu/threadpool.h"
#include "backend/gpu/gpu_backend.h"
#include "backend/gpu/gpu_registry.h"
#include "core/splitmix.h"
#include "core/sysinfo.h"
#include "train/train_checkpoint.h"

namespace paddock {

namespace {

// splitmix64 is bijective, so distinct (seed, step, row) give unrelated streams.
uint64_t mix64(uint64_t x) { return splitmix64(x); }

// A function of the run's seed, the step and the row only (no RNG state to carry), so a run
// resumed from a checkpoint draws exactly the dropout masks the uninterrupted run drew.
uint64_t dropout_seed(uint64_t seed, int64_t step, size_t row) {
  return mix64(mix64(mix64(seed) + (uint64_t)step) + (uint64_t)row);
}

// Bytes of values, gradients and both AdamW moments of the trainable parameters, before any
// allocation, so an impossible run is refused with a number instead of failing mid-allocation.
uint64_t parameter_state_bytes(const Model& base, const TrainerConfig& c) {
  uint64_t elements = 0;
  if (c.method == TrainMethod::Full) {
    elements = base.parameter_count;
  } else {
    for (int t = 0; t < kLoraTargetCount; t++) {
      if (!c.lora.targets_has((LoraTarget)t)) continue;
      int64_t n_in = 0, n_out = 0;
      lora_target_shape(base.config, (LoraTarget)t, &n_in, &n_out);
      elements += (uint64_t)base.config.n_layers * (uint64_t)c.lora.rank * (uint64_t)(n_in + n_out);
    }
  }
  return elements * 4 * sizeof(float);
}

bool same_trained_function(const TrainerConfig& a, const TrainerConfig& b) {
  if (a.method != b.method || a.seed != b.seed) return false;
  if (a.method == TrainMethod::Full) return true;
  return a.lora.rank == b.lora.rank && a.lora.alpha == b.lora.alpha && a.lora.dropout == b.lora.dropout &&
         a.lora.targets == b.lora.targets;
}

// clip_grads' factor: min(1, clip_norm / (norm + 1e-6)), 1 when clipping is off.
double clip_factor(double norm, double clip_norm) {
  if (clip_norm <= 0) return 1.0;
  const double coef = clip_norm / (norm + 1e-6);
  return coef < 1.0 ? coef : 1.0;
}

std::string describe(const TrainerConfig& c) {
  if (c.method == TrainMethod::Full) return strprintf("full fine-tuning, seed %" PRIu64, c.seed);
  return strprintf("LoRA rank %d alpha %g dropout %g targets 0x%x, seed %" PRIu64, c.lora.rank, (double)c.lora.alpha,
                   (double)c.lora.dropout, c.lora.targets, c.seed);
}

}  // namespace

struct Trainer::Impl {
  const Model* base = nullptr;
  TrainerConfig config;
  std::unique_ptr<ThreadPool> pool;
  ParamSet params;  // declared before the graph, which keeps pointers into it
  LoraWeights lora;
  TrainGraph graph;
  AdamWState adam;
  int64_t steps_done = 0;
  // GPU runs: the session holds the live parameters and moments. upload_pending: the host copy
  // changed (mutable_params, load_checkpoint) and goes up before the next device call;
  // host_stale: the device moved on and the host copy is refreshed before it is read.
  std::unique_ptr<GpuTrainSession> gpu;
  bool upload_pending = false;
  bool host_stale = false;
  TrainerBackendInfo info;

  Status start_gpu();
  Status to_device() {
    if (!gpu || !upload_pending) return Status();
    PD_TRY(gpu->upload(params, adam));
    upload_pending = false;
    return Status();
  }
  Status to_host() {
    if (!gpu || !host_stale) return Status();
    PD_TRY(gpu->download(&params, &adam));
    host_stale = false;
    return Status();
  }

  Status check_rows(const std::vector<TrainRow>& rows, double* weight, int64_t* tokens, int64_t* loss_tokens) const {
    if (rows.empty()) return PD_ERROR(InvalidArgument, "a training step needs at least one row");
    double w = 0.0;
    int64_t n = 0, n_loss = 0;
    for (size_t i = 0; i < rows.size(); i++) {
      Status st = check_train_row(base->config, rows[i], config.max_seq_len);
      if (!st.ok()) return PD_ERROR(InvalidArgument, "row %zu of the step: %s", i, st.message().c_str());
      for (int64_t t = 0; t < rows[i].T; t++) {
        w += (double)rows[i].weights[t];
        n_loss += rows[i].weights[t] > 0.0f;
      }
      n += rows[i].T;
    }
    if (!(w > 0.0))
      return PD_ERROR(InvalidArgument, "every position of the step's %zu row(s) has loss weight 0: nothing to learn",
                      rows.size());
    *weight = w;
    *tokens = n;
    *loss_tokens = n_loss;
    return Status();
  }
};

// Creates the GPU session the config asks for. Cuda: any failure is the caller's error. Auto:
// a failure leaves gpu null with the reason in info.notice (the run trains on the CPU).
Status Trainer::Impl::start_gpu() {
  const TrainDevice& d = config.device;
  if (d.kind == TrainDeviceKind::Cpu) return Status();
  Status st = [&]() -> Status {
    GpuBackend* backend = d.backend ? d.backend : cuda_backend();
    if (!backend) return PD_ERROR(Unsupported, "CUDA is not available: %s", cuda_backend_status().why.c_str());
    std::string why;
    const GpuDeviceInfo* dev = nullptr;
    const std::vector<GpuDeviceInfo> devices = backend->devices(&why);
    for (const GpuDeviceInfo& g : devices)
      if (g.index == d.index) dev = &g;
    if (!dev)
      return PD_ERROR(Unsupported, "CUDA device %d is not usable%s%s", d.index, why.empty() ? "" : ": ",
                      why.c_str());
    if (!dev->bf16) return PD_ERROR(Unsupported, "%s has no BF16 tensor cores (training needs them)", dev->name.c_str());
    GpuTrainOptions o;
    o.device = d.index;
    o.max_T = config.max_seq_len;
    o.checkpoint_activations = config.checkpoint_activations;
    o.lora_dropout = config.method == TrainMethod::Lora ? config.lora.dropout : 0.0f;
    // The base outlives the trainer (create's contract): a non-owning shared_ptr.
    std::shared_ptr<const Model> model(std::shared_ptr<const Model>(), base);
    PD_TRY(backend->create_train_session(model, params, config.method == TrainMethod::Lora ? &lora : nullptr, o, &gpu));
    info.name = backend->name();
    info.device_name = dev->name;
    return Status();
  }();
  if (st.ok()) return st;
  gpu.reset();
  if (d.kind == TrainDeviceKind::Cuda) return st;
  info.notice = "training on the CPU: " + st.message();
  return Status();
}

Trainer::Trainer() : impl_(new Impl) {}
Trainer::~Trainer() = default;

Status Trainer::create(const Model* base, const TrainerConfig& config, std::unique_ptr<Trainer>* out) {
  if (!base) return PD_ERROR(InvalidArgument, "training needs a loaded base model");
  if (config.n_threads < 1) return PD_ERROR(InvalidArgument, "thread count must be >= 1, got %d", config.n_threads);
  if (config.max_seq_len < 1)
    return PD_ERROR(InvalidArgument, "max sequence length must be >= 1, got %lld", (long long)config.max_seq_len);
  PD_TRY(check_adamw_config(config.optimizer));
  PD_TRY(check_schedule(config.schedule));
  const uint64_t need = parameter_state_bytes(*base, config), have = total_memory_bytes();
  if (have && need > have)
    return PD_ERROR(OutOfMemory,
                    "training needs %.2f GiB for parameters, gradients and AdamW moments alone; this machine has "
                    "%.2f GiB",
                    need / 1073741824.0, have / 1073741824.0);

  std::unique_ptr<Trainer> t(new Trainer());
  Impl& im = *t->impl_;
  im.base = base;
  im.config = config;
  TrainModel tm;
  tm.base = base;
  tm.checkpoint_activations = config.checkpoint_activations;
  if (config.method == TrainMethod::Lora) {
    PD_TRY(lora_create(base->config, config.lora, config.seed, &im.params, &im.lora));
    tm.lora = &im.lora;
  } else {
    PD_TRY(full_params_from_model(*base, &im.params));
    tm.full = &im.params;
  }
  im.adam.init(im.params);
  PD_TRY(im.start_gpu());
  if (!im.gpu) {
    PD_TRY(im.graph.init(tm, config.max_seq_len, config.n_threads));
    im.info.name = "cpu";
    im.info.device_name = cpu_model_name();
  }
  im.pool.reset(new ThreadPool(config.n_threads));
  *out = std::move(t);
  return Status();
}

Status Trainer::step(const std::vector<TrainRow>& rows, StepResult* out) {
  Impl& im = *impl_;
  const auto t0 = std::chrono::steady_clock::now();
  double weight = 0.0;
  int64_t tokens = 0, loss_tokens = 0;
  PD_TRY(im.check_rows(rows, &weight, &tokens, &loss_tokens));

  const float grad_scale = (float)(1.0 / weight);  // the step's loss is the weighted mean over all rows
  double loss_sum = 0.0, norm = 0.0;
  if (im.gpu) {
    PD_TRY(im.to_device());
    PD_TRY(im.gpu->zero_grad());
    for (size_t i = 0; i < rows.size(); i++) {
      double ls = 0.0, ws = 0.0;
      PD_TRY(im.gpu->forward_backward(rows[i], grad_scale, dropout_seed(im.config.seed, im.steps_done, i), &ls, &ws));
      loss_sum += ls;
    }
    PD_TRY(im.gpu->grad_norm(&norm));
  } else {
    im.params.zero_grad();
    for (size_t i = 0; i < rows.size(); i++) {
      double ls = 0.0, ws = 0.0;
      PD_TRY(im.graph.forward_backward(*im.pool, rows[i], grad_scale, dropout_seed(im.config.seed, im.steps_done, i),
                                       &ls, &ws));
      loss_sum += ls;
    }
    norm = grad_global_norm(im.params, im.pool.get());
  }
  const double loss = loss_sum / weight;
  // An update with a NaN or infinite gradient would destroy every weight it touches.
  if (!std::isfinite(loss) || !std::isfinite(norm))
    return PD_ERROR(InvalidArgument,
                    "step %lld: loss %g, gradient norm %g are not finite (the learning rate may be too high); the "
                    "parameters were not updated",
                    (long long)(im.steps_done + 1), loss, norm);
  const double lr = lr_at(im.config.schedule, im.config.optimizer.lr, im.steps_done);
  if (im.gpu) {
    PD_TRY(im.gpu->adamw_step(clip_factor(norm, im.config.optimizer.clip_norm), im.config.optimizer, lr, im.adam.t + 1));
    im.adam.t++;
    im.host_stale = true;
  } else {
    clip_grads(&im.params, norm, im.config.optimizer.clip_norm, im.pool.get());
    adamw_step(&im.params, &im.adam, im.config.optimizer, lr, im.pool.get());
  }
  im.steps_done++;

  StepResult r;
  r.step = im.steps_done;
  r.loss = loss;
  r.grad_norm = norm;
  r.lr = lr;
  r.tokens = tokens;
  r.loss_tokens = loss_tokens;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (out) *out = r;
  return Status();
}

Status Trainer::evaluate(const std::vector<TrainRow>& rows, double* mean_loss) {
  Impl& im = *impl_;
  double weight = 0.0;
  int64_t tokens = 0, loss_tokens = 0;
  PD_TRY(im.check_rows(rows, &weight, &tokens, &loss_tokens));
  PD_TRY(im.to_device());
  double loss_sum = 0.0;
  for (const TrainRow& row : rows) {
    double ls = 0.0, ws = 0.0;
    if (im.gpu)
      PD_TRY(im.gpu->forward(row, &ls, &ws));
    else
      PD_TRY(im.graph.forward(*im.pool, row, &ls, &ws));
    loss_sum += ls;
  }
  *mean_loss = loss_sum / weight;
  return Status();
}

Status Trainer::save_checkpoint(const std::string& path, const std::string& extra_json) const {
  Impl& im = *impl_;
  PD_TRY(im.to_host());  // the device holds the live values and moments
  TrainCheckpointMeta meta;
  meta.config = im.config;
  meta.base = base_model_identity(*im.base);
  meta.steps_done = im.steps_done;
  meta.adam_t = im.adam.t;
  meta.extra_json = extra_json;
  return write_train_checkpoint(path, meta, im.params, im.adam);
}

Status Trainer::load_checkpoint(const std::string& path, std::string* extra_json) {
  Impl& im = *impl_;
  const char* p = path.c_str();
  // Everything is read and checked into temporaries first: a refused file changes nothing.
  TrainCheckpointMeta meta;
  ParamSet saved;
  AdamWState moments;
  std::string extra;
  PD_TRY(read_train_checkpoint(path, nullptr, &saved, &extra, &meta, &moments));
  PD_TRY(check_same_base(path, meta.base, *im.base));
  if (!same_trained_function(meta.config, im.config))
    return PD_ERROR(BadModelFile, "%s: the checkpoint is of a run with %s; this run has %s", p,
                    describe(meta.config).c_str(), describe(im.config).c_str());
  if (saved.size() != im.params.size())
    return PD_ERROR(BadModelFile, "%s: the checkpoint holds %zu parameters, this run trains %zu", p, saved.size(),
                    im.params.size());
  for (size_t i = 0; i < saved.size(); i++) {
    const Param &a = saved[i], &b = im.params[i];
    if (a.name != b.name || a.rows != b.rows || a.cols != b.cols)
      return PD_ERROR(BadModelFile, "%s: parameter %zu is %s [%lld, %lld] in the checkpoint, %s [%lld, %lld] here", p,
                      i, a.name.c_str(), (long long)a.rows, (long long)a.cols, b.name.c_str(), (long long)b.rows,
                      (long long)b.cols);
  }
  // Values are copied into the existing parameters: the LoRA tables and the graph point at them.
  for (size_t i = 0; i < saved.size(); i++) {
    std::copy(saved[i].value.begin(), saved[i].value.end(), im.params[i].value.begin());
    std::fill(im.params[i].grad.begin(), im.params[i].grad.end(), 0.0f);
  }
  im.adam = std::move(moments);
  im.steps_done = meta.steps_done;
  im.upload_pending = im.gpu != nullptr;
  im.host_stale = false;
  if (extra_json) *extra_json = extra;
  return Status();
}

int64_t Trainer::steps_done() const { return impl_->steps_done; }
const TrainerConfig& Trainer::config() const { return impl_->config; }
// A download failure leaves the last host copy (the run itself is unaffected); save_checkpoint
// reports such a failure.
const ParamSet& Trainer::params() const {
  (void)impl_->to_host();
  return impl_->params;
}
int64_t Trainer::trainable_parameters() const { return impl_->params.total_elements(); }
ParamSet* Trainer::mutable_params() {
  (void)impl_->to_host();
  impl_->upload_pending = impl_->gpu != nullptr;
  return &impl_->params;
}
const LoraWeights* Trainer::lora() const { return impl_->config.method == TrainMethod::Lora ? &impl_->lora : nullptr; }

size_t Trainer::memory_bytes() const {
  if (impl_->gpu) return (size_t)impl_->gpu->device_bytes();
  return (size_t)impl_->params.total_elements() * 4 * sizeof(float) + impl_->graph.activation_bytes();
}

const TrainerBackendInfo& Trainer::backend_info() const {
  impl_->info.device_bytes = memory_bytes();
  return impl_->info;
}

}  // namespace paddock
