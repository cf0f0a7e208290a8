#include "trainer_wrap.h"

#include <cmath>
#include <functional>
#include <vector>

#include "backend/cpu/gemm_peak.h"
#include "backend/cpu/threadpool.h"
#include "io/adapter_gguf.h"
#include "io/adapter_peft.h"
#include "js_errors.h"
#include "model/lora_merge.h"
#include "model_wrap.h"
#include "promise_worker.h"
#include "train/train_checkpoint.h"

namespace paddock {

namespace {

// A training row copied out of its typed arrays, so JS may reuse them while the step runs.
struct OwnedRow {
  std::vector<int32_t> tokens, targets, positions, segments;
  std::vector<float> weights;
  TrainRow view() const {
    TrainRow r;
    r.tokens = tokens.data();
    r.targets = targets.data();
    r.weights = weights.data();
    r.positions = positions.empty() ? nullptr : positions.data();
    r.segments = segments.empty() ? nullptr : segments.data();
    r.T = (int64_t)tokens.size();
    return r;
  }
};

template <class TA, class T>
bool copy_typed(const Napi::Object& o, const char* key, napi_typedarray_type type, bool required, std::vector<T>* out,
                std::string* err) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) {
    if (required) *err = std::string("a training row needs ") + key;
    return !required;
  }
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) {
    *err = std::string("row.") + key + (type == napi_float32_array ? " must be a Float32Array" : " must be an Int32Array");
    return false;
  }
  TA a = v.As<TA>();
  out->assign(a.Data(), a.Data() + a.ElementLength());
  return true;
}

// rows: [{tokens, targets, weights, positions?, segments?}, ...] -> owned copies (lengths checked
// here; ids, weights and segment order by check_train_row in the step).
std::vector<OwnedRow> rows_arg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) throw_invalid(env, "step/evaluate take an array of training rows");
  Napi::Array a = info[0].As<Napi::Array>();
  if (a.Length() == 0) throw_invalid(env, "step/evaluate need at least one training row");
  std::vector<OwnedRow> rows(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value v = a.Get(i);
    if (!v.IsObject()) throw_invalid(env, "a training row must be an object {tokens, targets, weights}");
    Napi::Object o = v.As<Napi::Object>();
    OwnedRow& r = rows[i];
    std::string err;
    if (!copy_typed<Napi::Int32Array>(o, "tokens", napi_int32_array, true, &r.tokens, &err) ||
        !copy_typed<Napi::Int32Array>(o, "targets", napi_int32_array, true, &r.targets, &err) ||
        !copy_typed<Napi::Float32Array>(o, "weights", napi_float32_array, true, &r.weights, &err) ||
        !copy_typed<Napi::Int32Array>(o, "positions", napi_int32_array, false, &r.positions, &err) ||
        !copy_typed<Napi::Int32Array>(o, "segments", napi_int32_array, false, &r.segments, &err)) {
      throw_invalid(env, err + strprintf(" (row %u)", i));
    }
    const size_t T = r.tokens.size();
    if (T == 0 || r.targets.size() != T || r.weights.size() != T || (!r.positions.empty() && r.positions.size() != T) ||
        (!r.segments.empty() && r.segments.size() != T)) {
      throw_invalid(env, strprintf("training row %u: tokens, targets, weights (and positions, segments) must have the same non-zero length", i));
    }
  }
  return rows;
}

bool opt_bool(Napi::Env env, const Napi::Value& options, const char* key, bool def) {
  if (!options.IsObject()) return def;
  Napi::Value v = options.As<Napi::Object>().Get(key);
  if (v.IsUndefined()) return def;
  if (!v.IsBoolean()) throw_invalid(env, std::string(key) + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

int64_t opt_int(Napi::Env env, const Napi::Value& options, const char* key, int64_t def, int64_t lo, int64_t hi) {
  const double v = opt_number(env, options, key, (double)def);
  if (v != std::floor(v) || v < (double)lo || v > (double)hi) {
    throw_invalid(env, strprintf("%s must be a whole number in [%lld, %lld], got %g", key, (long long)lo, (long long)hi, v));
  }
  return (int64_t)v;
}

TrainerConfig config_arg(Napi::Env env, const Napi::Value& o) {
  TrainerConfig c;
  const std::string method = opt_string(env, o, "method", "lora");
  if (method != "lora" && method != "full") throw_invalid(env, "method must be 'lora' or 'full', got '" + method + "'");
  c.method = method == "full" ? TrainMethod::Full : TrainMethod::Lora;
  c.lora.rank = (int)opt_int(env, o, "rank", 8, 1, 1 << 16);
  c.lora.alpha = (float)opt_number(env, o, "alpha", 2.0 * c.lora.rank);
  c.lora.dropout = (float)opt_number(env, o, "dropout", 0.0);
  Status st = parse_lora_targets(opt_string(env, o, "targets", "q,k,v,o,gate,up,down"), &c.lora.targets);
  if (!st.ok()) throw_status(env, st);
  c.optimizer.lr = opt_number(env, o, "lr", c.optimizer.lr);
  c.optimizer.beta1 = opt_number(env, o, "beta1", c.optimizer.beta1);
  c.optimizer.beta2 = opt_number(env, o, "beta2", c.optimizer.beta2);
  c.optimizer.eps = opt_number(env, o, "eps", c.optimizer.eps);
  c.optimizer.weight_decay = opt_number(env, o, "weightDecay", c.optimizer.weight_decay);
  c.optimizer.clip_norm = opt_number(env, o, "clipNorm", c.optimizer.clip_norm);
  st = parse_schedule_kind(opt_string(env, o, "schedule", "constant"), &c.schedule.kind);
  if (!st.ok()) throw_status(env, st);
  c.schedule.warmup_steps = opt_int(env, o, "warmupSteps", 0, 0, INT64_C(1) << 40);
  c.schedule.total_steps = opt_int(env, o, "totalSteps", 0, 0, INT64_C(1) << 40);
  c.schedule.final_ratio = (float)opt_number(env, o, "finalRatio", 0.0);
  c.max_seq_len = opt_int(env, o, "maxSeqLen", c.max_seq_len, 1, 1 << 24);
  c.checkpoint_activations = opt_bool(env, o, "checkpointActivations", false);
  c.seed = (uint64_t)opt_int(env, o, "seed", 0, 0, INT64_C(9007199254740991));
  c.n_threads = (int)opt_int(env, o, "threads", 1, 1, 512);
  // device: 'cpu' (default), 'cuda' (an error when CUDA cannot train), 'auto' (CUDA when it can,
  // else the CPU with backend.notice saying why).
  const std::string device = opt_string(env, o, "device", "cpu");
  if (device != "cpu" && device != "cuda" && device != "auto")
    throw_invalid(env, "device must be 'auto', 'cpu' or 'cuda', got '" + device + "'");
  c.device.kind = device == "cuda" ? TrainDeviceKind::Cuda : device == "auto" ? TrainDeviceKind::Auto : TrainDeviceKind::Cpu;
  c.device.index = (int)opt_int(env, o, "deviceIndex", 0, 0, 64);
  return c;
}

// trainer.backend: { name, deviceName, deviceBytes, notice? } (fixed once the trainer exists:
// every device buffer is allocated at creation).
Napi::Object backend_to_js(Napi::Env env, const TrainerBackendInfo& b) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", b.name);
  o.Set("deviceName", b.device_name);
  o.Set("deviceBytes", (double)b.device_bytes);
  if (!b.notice.empty()) o.Set("notice", b.notice);
  o.Freeze();
  return o;
}

Napi::Object step_to_js(Napi::Env env, const StepResult& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("step", (double)r.step);
  o.Set("loss", r.loss);
  o.Set("gradNorm", r.grad_norm);
  o.Set("lr", r.lr);
  o.Set("tokens", (double)r.tokens);
  o.Set("lossTokens", (double)r.loss_tokens);
  o.Set("seconds", r.seconds);
  return o;
}

}  // namespace

// One blocking trainer call on a libuv thread. It holds the trainer (and the JS wrapper, so
// neither is collected mid-call) and clears the wrapper's busy flag when done.
class TrainerJob : public PromiseWorker {
 public:
  using Work = std::function<Status(Trainer&)>;
  using Make = std::function<Napi::Value(Napi::Env)>;
  TrainerJob(Napi::Env env, const char* name, TrainerWrap* wrap, Work work, Make result)
      : PromiseWorker(env, name), trainer_(wrap->trainer_), wrap_(wrap), work_(std::move(work)), result_(std::move(result)) {
    self_ = Napi::Persistent(wrap->Value());
  }

 protected:
  Status Run() override { return work_(*trainer_); }
  Napi::Value Result(Napi::Env env) override { return result_ ? result_(env) : env.Undefined(); }
  void Finished() override {
    wrap_->busy_ = false;
    wrap_->steps_done_ = trainer_->steps_done();
  }

 private:
  std::shared_ptr<Trainer> trainer_;
  TrainerWrap* wrap_;
  Work work_;
  Make result_;
  Napi::ObjectReference self_;
};

namespace {

struct TrainerInit {
  std::shared_ptr<Model> model;
  std::shared_ptr<Trainer> trainer;
};

// createTrainer(model, config): builds parameters, moments and the graph off the JS thread.
class CreateWorker : public PromiseWorker {
 public:
  CreateWorker(Napi::Env env, Napi::FunctionReference* ctor, std::shared_ptr<Model> model, TrainerConfig config)
      : PromiseWorker(env, "paddock.createTrainer"), ctor_(ctor), model_(std::move(model)), config_(config) {}

 protected:
  Status Run() override {
    std::unique_ptr<Trainer> t;
    PD_TRY(Trainer::create(model_.get(), config_, &t));
    trainer_ = std::move(t);
    return Status();
  }
  Napi::Value Result(Napi::Env env) override {
    TrainerInit init{model_, trainer_};
    return ctor_->New({Napi::External<TrainerInit>::New(env, &init)});
  }

 private:
  Napi::FunctionReference* ctor_;
  std::shared_ptr<Model> model_;
  TrainerConfig config_;
  std::shared_ptr<Trainer> trainer_;
};

Napi::Value CreateTrainer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* ctor = static_cast<Napi::FunctionReference*>(info.Data());
  return queue_promise(env, [&] {
    if (info.Length() < 1 || !ModelWrap::IsInstance(env, info[0])) {
      throw_invalid(env, "createTrainer needs a NativeModel from loadModel()");
    }
    std::shared_ptr<Model> model = Napi::ObjectWrap<ModelWrap>::Unwrap(info[0].As<Napi::Object>())->model(env);
    TrainerConfig config = config_arg(env, info.Length() > 1 ? info[1] : env.Undefined());
    return new CreateWorker(env, ctor, std::move(model), config);
  });
}

// exportTrainedRun(model, checkpoint, {format, type, out}): reads the run's checkpoint (no
// trainer, so no gradients or moments in memory) and writes the adapter or the merged model.
class ExportWorker : public PromiseWorker {
 public:
  ExportWorker(Napi::Env env, std::shared_ptr<Model> model, std::string checkpoint, std::string format, std::string type,
               std::string out)
      : PromiseWorker(env, "paddock.exportTrainedRun"), model_(std::move(model)), checkpoint_(std::move(checkpoint)),
        format_(std::move(format)), type_(std::move(type)), out_(std::move(out)) {}

 protected:
  Status Run() override {
    TrainerConfig config;
    ParamSet params;
    std::string extra;
    PD_TRY(read_train_checkpoint(checkpoint_, &config, &params, &extra));
    const bool lora = config.method == TrainMethod::Lora;
    if (format_ == "gguf-merged") {
      return export_merged_gguf(*model_, lora ? &config.lora : nullptr, lora ? &params : nullptr, lora ? nullptr : &params,
                                type_, out_);
    }
    if (!lora) {
      return PD_ERROR(InvalidArgument, "%s holds a full fine-tuning run: it has no adapter to export as %s (use gguf-merged)",
                      checkpoint_.c_str(), format_.c_str());
    }
    if (format_ == "gguf-lora") return export_adapter_gguf(*model_, config.lora, params, out_);
    return export_adapter_peft(*model_, config.lora, params, out_);
  }
  Napi::Value Result(Napi::Env env) override { return Napi::String::New(env, out_); }

 private:
  std::shared_ptr<Model> model_;
  std::string checkpoint_, format_, type_, out_;
};

Napi::Value ExportTrainedRun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return queue_promise(env, [&] {
    if (info.Length() < 1 || !ModelWrap::IsInstance(env, info[0])) {
      throw_invalid(env, "exportTrainedRun needs the run's base NativeModel from loadModel()");
    }
    std::shared_ptr<Model> model = Napi::ObjectWrap<ModelWrap>::Unwrap(info[0].As<Napi::Object>())->model(env);
    std::string checkpoint = arg_string(info, 1, "checkpoint");
    Napi::Value o = info.Length() > 2 ? info[2] : env.Undefined();
    std::string format = opt_string(env, o, "format", "");
    std::string type = opt_string(env, o, "type", "f16");
    std::string out = opt_string(env, o, "out", "");
    if (format != "peft" && format != "gguf-lora" && format != "gguf-merged") {
      throw_invalid(env, "format must be 'peft', 'gguf-lora' or 'gguf-merged', got '" + format + "'");
    }
    if (type != "f16" && type != "q8_0" && type != "q4_k_m") throw_invalid(env, "type must be 'f16', 'q8_0' or 'q4_k_m', got '" + type + "'");
    if (out.empty()) throw_invalid(env, "exportTrainedRun needs an output path (out)");
    return new ExportWorker(env, std::move(model), std::move(checkpoint), std::move(format), std::move(type), std::move(out));
  });
}

// measureGemmFlops(seconds, threads): the machine's F32 GEMM FLOP/s, the MFU denominator.
class GemmPeakWorker : public PromiseWorker {
 public:
  GemmPeakWorker(Napi::Env env, double seconds, int threads)
      : PromiseWorker(env, "paddock.measureGemmFlops"), seconds_(seconds), threads_(threads) {}

 protected:
  Status Run() override {
    ThreadPool pool(threads_);
    flops_ = measure_gemm_flops(pool, seconds_);
    return Status();
  }
  Napi::Value Result(Napi::Env env) override { return Napi::Number::New(env, flops_); }

 private:
  double seconds_;
  int threads_;
  double flops_ = 0;
};

Napi::Value MeasureGemmFlops(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return queue_promise(env, [&] {
    const double seconds = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : 2.0;
    const double threads = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().DoubleValue() : 1.0;
    if (!(seconds > 0 && seconds <= 600)) throw_invalid(env, "measureGemmFlops seconds must be in (0, 600]");
    if (threads != std::floor(threads) || threads < 1 || threads > 512) throw_invalid(env, "measureGemmFlops threads must be a whole number in [1, 512]");
    return new GemmPeakWorker(env, seconds, (int)threads);
  });
}

}  // namespace

void TrainerWrap::Register(Napi::Env env, Napi::Object exports) {
  Napi::Function cls = DefineClass(env, "NativeTrainer",
                                   {
                                       InstanceAccessor<&TrainerWrap::StepsDone>("stepsDone"),
                                       InstanceAccessor<&TrainerWrap::MemoryBytes>("memoryBytes"),
                                       InstanceAccessor<&TrainerWrap::TrainableParameters>("trainableParameters"),
                                       InstanceMethod<&TrainerWrap::Step>("step"),
                                       InstanceMethod<&TrainerWrap::Evaluate>("evaluate"),
                                       InstanceMethod<&TrainerWrap::SaveCheckpoint>("saveCheckpoint"),
                                       InstanceMethod<&TrainerWrap::LoadCheckpoint>("loadCheckpoint"),
                                       InstanceMethod<&TrainerWrap::Dispose>("dispose"),
                                   });
  // The constructor lives as long as the environment: freed by its cleanup hook.
  auto* ctor = new Napi::FunctionReference(Napi::Persistent(cls));
  env.AddCleanupHook([ctor] { delete ctor; });
  exports.Set("createTrainer", Napi::Function::New<CreateTrainer>(env, "createTrainer", ctor));
  exports.Set("exportTrainedRun", Napi::Function::New<ExportTrainedRun>(env, "exportTrainedRun"));
  exports.Set("measureGemmFlops", Napi::Function::New<MeasureGemmFlops>(env, "measureGemmFlops"));
}

TrainerWrap::TrainerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TrainerWrap>(info) {
  if (info.Length() < 1 || !info[0].IsExternal()) throw_invalid(info.Env(), "NativeTrainer is created by createTrainer()");
  TrainerInit* init = info[0].As<Napi::External<TrainerInit>>().Data();
  model_ = init->model;
  trainer_ = init->trainer;
  steps_done_ = trainer_->steps_done();
  // Read-only (not writable, not configurable) data property of this trainer.
  info.This().As<Napi::Object>().DefineProperty(
      Napi::PropertyDescriptor::Value("backend", backend_to_js(info.Env(), trainer_->backend_info()), napi_enumerable));
}

Status TrainerWrap::acquire(const char* what) {
  if (!trainer_) return Status(ErrorCode::InvalidArgument, "this trainer has been disposed", "binding", 0);
  if (busy_) {
    return Status(ErrorCode::InvalidArgument, std::string("cannot ") + what + " while another trainer call runs; await it first",
                  "binding", 0);
  }
  return Status();
}

Napi::Value TrainerWrap::StepsDone(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), (double)steps_done_);
}

Napi::Value TrainerWrap::MemoryBytes(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), trainer_ ? (double)trainer_->memory_bytes() : 0.0);
}

Napi::Value TrainerWrap::TrainableParameters(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), trainer_ ? (double)trainer_->trainable_parameters() : 0.0);
}

Napi::Value TrainerWrap::Step(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Status st = acquire("step");
  if (!st.ok()) return rejected_promise(env, st);
  return queue_promise(env, [&] {
    auto rows = std::make_shared<std::vector<OwnedRow>>(rows_arg(info));
    auto result = std::make_shared<StepResult>();
    auto* job = new TrainerJob(
        env, "paddock.trainStep", this,
        [rows, result](Trainer& t) {
          std::vector<TrainRow> views;
          for (const OwnedRow& r : *rows) views.push_back(r.view());
          return t.step(views, result.get());
        },
        [result](Napi::Env e) -> Napi::Value { return step_to_js(e, *result); });
    busy_ = true;
    return job;
  });
}

Napi::Value TrainerWrap::Evaluate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Status st = acquire("evaluate");
  if (!st.ok()) return rejected_promise(env, st);
  return queue_promise(env, [&] {
    auto rows = std::make_shared<std::vector<OwnedRow>>(rows_arg(info));
    auto loss = std::make_shared<double>(0.0);
    auto* job = new TrainerJob(
        env, "paddock.trainEvaluate", this,
        [rows, loss](Trainer& t) {
          std::vector<TrainRow> views;
          for (const OwnedRow& r : *rows) views.push_back(r.view());
          return t.evaluate(views, loss.get());
        },
        [loss](Napi::Env e) -> Napi::Value { return Napi::Number::New(e, *loss); });
    busy_ = true;
    return job;
  });
}

Napi::Value TrainerWrap::SaveCheckpoint(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Status st = acquire("save a checkpoint");
  if (!st.ok()) return rejected_promise(env, st);
  return queue_promise(env, [&] {
    std::string path = arg_string(info, 0, "path");
    std::string extra = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "{}";
    auto* job = new TrainerJob(env, "paddock.saveCheckpoint", this,
                               [path, extra](Trainer& t) { return t.save_checkpoint(path, extra); }, nullptr);
    busy_ = true;
    return job;
  });
}

Napi::Value TrainerWrap::LoadCheckpoint(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Status st = acquire("load a checkpoint");
  if (!st.ok()) return rejected_promise(env, st);
  return queue_promise(env, [&] {
    std::string path = arg_string(info, 0, "path");
    auto extra = std::make_shared<std::string>();
    auto* job = new TrainerJob(
        env, "paddock.loadCheckpoint", this, [path, extra](Trainer& t) { return t.load_checkpoint(path, extra.get()); },
        [extra](Napi::Env e) -> Napi::Value { return Napi::String::New(e, *extra); });
    busy_ = true;
    return job;
  });
}

void TrainerWrap::Dispose(const Napi::CallbackInfo&) {
  trainer_.reset();  // a running job holds its own reference and frees it when done
  model_.reset();
}

}  // namespace paddock
