// The module: readModelInfo, loadModel, writeGguf (promises, run on libuv threads),
// createSampler, backends(), version. Shapes match electron/engine/addon.ts.
#include <napi.h>

#include "adapter_wrap.h"
#include "addon_data.h"
#include "context_wrap.h"
#include "devices_wrap.h"
#include "backend/gpu/gpu_registry.h"
#include "core/sysinfo.h"
#include "io/model_export.h"
#include "io/model_loader.h"
#include "io/synthetic_gguf.h"
#include "js_errors.h"
#include "model_wrap.h"
#include "promise_worker.h"
#include "sampler_wrap.h"
#include "tokenizer_wrap.h"
#include "trainer_wrap.h"

namespace paddock {

namespace {

// readModelInfo / loadModel: open and validate the file off the JS thread.
class LoadWorker : public PromiseWorker {
 public:
  LoadWorker(Napi::Env env, std::string path, LoadOptions opts)
      : PromiseWorker(env, opts.info_only ? "paddock.readModelInfo" : "paddock.loadModel"),
        path_(std::move(path)),
        opts_(std::move(opts)) {}

 protected:
  Status Run() override { return load_model(path_, opts_, &model_); }
  Napi::Value Result(Napi::Env env) override {
    if (opts_.info_only) return model_info_to_js(env, *model_);
    return ModelWrap::Create(env, std::move(model_));
  }

 private:
  std::string path_;
  LoadOptions opts_;
  std::shared_ptr<Model> model_;
};

class WriteGgufWorker : public PromiseWorker {
 public:
  WriteGgufWorker(Napi::Env env, std::shared_ptr<Model> model, std::string path, DType type)
      : PromiseWorker(env, "paddock.writeGguf"), model_(std::move(model)), path_(std::move(path)), type_(type) {}

 protected:
  Status Run() override { return export_gguf(*model_, path_, type_); }
  Napi::Value Result(Napi::Env env) override { return env.Undefined(); }

 private:
  std::shared_ptr<Model> model_;
  std::string path_;
  DType type_;
};

class SynthWorker : public PromiseWorker {
 public:
  SynthWorker(Napi::Env env, std::string path, SynthShape shape, SynthType type, uint64_t seed, std::string vocab_dir)
      : PromiseWorker(env, "paddock.writeSyntheticGguf"), path_(std::move(path)), shape_(std::move(shape)),
        type_(type), seed_(seed), vocab_dir_(std::move(vocab_dir)) {}

 protected:
  Status Run() override { return write_synthetic_gguf(path_, shape_, type_, seed_, vocab_dir_); }
  Napi::Value Result(Napi::Env env) override { return Napi::String::New(env, path_); }

 private:
  std::string path_;
  SynthShape shape_;
  SynthType type_;
  uint64_t seed_;
  std::string vocab_dir_;
};

Napi::Value load_common(const Napi::CallbackInfo& info, bool info_only) {
  Napi::Env env = info.Env();
  return queue_promise(env, [&] {
    LoadOptions opts;
    opts.info_only = info_only;
    std::string path = arg_string(info, 0, "file");
    opts.tokenizer_path = opt_string(env, info.Length() > 1 ? info[1] : env.Undefined(), "tokenizerPath", "");
    return new LoadWorker(env, std::move(path), std::move(opts));
  });
}

Napi::Value ReadModelInfo(const Napi::CallbackInfo& info) { return load_common(info, true); }
Napi::Value LoadModel(const Napi::CallbackInfo& info) { return load_common(info, false); }

Napi::Value WriteGguf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return queue_promise(env, [&] {
    if (info.Length() < 1 || !ModelWrap::IsInstance(env, info[0])) {
      throw_invalid(env, "writeGguf needs a NativeModel from loadModel()");
    }
    std::shared_ptr<Model> model = Napi::ObjectWrap<ModelWrap>::Unwrap(info[0].As<Napi::Object>())->model(env);
    std::string out = arg_string(info, 1, "outFile");
    std::string type = opt_string(env, info.Length() > 2 ? info[2] : env.Undefined(), "type", "f32");
    const DType dtype = type == "f32"    ? DType::F32
                        : type == "f16"  ? DType::F16
                        : type == "q8_0" ? DType::Q8_0
                        : type == "q4_0" ? DType::Q4_0
                                         : DType::I8;  // not an export type: refused below
    if (dtype == DType::I8) throw_invalid(env, "writeGguf type must be 'f32', 'f16', 'q8_0' or 'q4_0', got '" + type + "'");
    return new WriteGgufWorker(env, std::move(model), std::move(out), dtype);
  });
}

// writeSyntheticGguf(outFile, {shape, type, seed, vocabDir}): resolves with outFile. vocabDir
// (resources/tokenizers) holds the real Llama 2/3 vocabularies; without it, a generated one.
Napi::Value WriteSyntheticGguf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return queue_promise(env, [&] {
    std::string out = arg_string(info, 0, "outFile");
    Napi::Value opts = info.Length() > 1 ? info[1] : env.Undefined();
    SynthShape shape;
    SynthType type;
    Status st = synth_shape_by_name(opt_string(env, opts, "shape", ""), &shape);
    if (st.ok()) st = synth_type_by_name(opt_string(env, opts, "type", "f16"), &type);
    if (!st.ok()) throw_invalid(env, st.message());
    const double seed = opt_number(env, opts, "seed", 0);
    if (!(seed >= 0 && seed <= 9007199254740991.0) || seed != (double)(uint64_t)seed) {
      throw_invalid(env, "writeSyntheticGguf seed must be a non-negative integer");
    }
    std::string vocab_dir = opt_string(env, opts, "vocabDir", "");
    return new SynthWorker(env, std::move(out), std::move(shape), type, (uint64_t)seed, std::move(vocab_dir));
  });
}

Napi::Value CreateSampler(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return addon_data(env)->sampler_ctor.New({info.Length() > 0 ? info[0] : env.Undefined()});
}

Napi::Value Backends(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env, 3);
  auto backend = [&](const char* name, bool compiled) {
    Napi::Object b = Napi::Object::New(env);
    b.Set("name", name);
    b.Set("compiled", compiled);
    b.Set("devices", Napi::Array::New(env, 0));
    return b;
  };
  Napi::Object cpu = backend("cpu", true);
  Napi::Object dev = Napi::Object::New(env);
  dev.Set("name", cpu_model_name());
  dev.Set("memory_bytes", (double)total_memory_bytes());
  Napi::Array devs = Napi::Array::New(env, 1);
  devs.Set(0u, dev);
  cpu.Set("devices", devs);
  out.Set(0u, cpu);
  out.Set(1u, backend("cuda", cuda_backend_status().compiled));  // devices(): the full list
  out.Set(2u, backend("metal", false));
  return out;
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  data->model_ctor = Napi::Persistent(ModelWrap::Define(env));
  data->context_ctor = Napi::Persistent(ContextWrap::Define(env));
  data->sampler_ctor = Napi::Persistent(SamplerWrap::Define(env));
  data->tokenizer_ctor = Napi::Persistent(TokenizerWrap::Define(env));
  env.SetInstanceData<AddonData>(data);  // deleted with the environment

  exports.Set("version", Napi::String::New(env, PADDOCK_VERSION));
  exports.Set("readModelInfo", Napi::Function::New<ReadModelInfo>(env, "readModelInfo"));
  exports.Set("loadModel", Napi::Function::New<LoadModel>(env, "loadModel"));
  exports.Set("writeGguf", Napi::Function::New<WriteGguf>(env, "writeGguf"));
  exports.Set("writeSyntheticGguf", Napi::Function::New<WriteSyntheticGguf>(env, "writeSyntheticGguf"));
  exports.Set("loadTokenizer", Napi::Function::New<LoadTokenizer>(env, "loadTokenizer"));
  exports.Set("createSampler", Napi::Function::New<CreateSampler>(env, "createSampler"));
  exports.Set("backends", Napi::Function::New<Backends>(env, "backends"));
  exports.Set("devices", Napi::Function::New<Devices>(env, "devices"));
  exports.Set("loadAdapter", Napi::Function::New<LoadAdapter>(env, "loadAdapter"));
  exports.Set("writeSyntheticAdapter", Napi::Function::New<WriteSyntheticAdapter>(env, "writeSyntheticAdapter"));
  TrainerWrap::Register(env, exports);  // createTrainer, training exports, measureGemmFlops
  return exports;
}

}  // namespace paddock

static Napi::Object InitPaddock(Napi::Env env, Napi::Object exports) { return paddock::Init(env, exports); }

NODE_API_MODULE(paddock, InitPaddock)
