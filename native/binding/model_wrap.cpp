#include "model_wrap.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "addon_data.h"
#include "context_wrap.h"
#include "infer/tokenizer.h"
#include "js_errors.h"

namespace paddock {

Napi::Function ModelWrap::Define(Napi::Env env) {
  return DefineClass(env, "NativeModel",
                     {
                         InstanceAccessor<&ModelWrap::Info>("info"),
                         InstanceMethod<&ModelWrap::Tokenize>("tokenize"),
                         InstanceMethod<&ModelWrap::TokenBytes>("tokenBytes"),
                         InstanceMethod<&ModelWrap::TokenText>("tokenText"),
                         InstanceMethod<&ModelWrap::IsEog>("isEog"),
                         InstanceMethod<&ModelWrap::CreateContext>("createContext"),
                         InstanceMethod<&ModelWrap::Dispose>("dispose"),
                     });
}

Napi::Object ModelWrap::Create(Napi::Env env, std::shared_ptr<Model> model) {
  auto* holder = new std::shared_ptr<Model>(std::move(model));
  Napi::External<std::shared_ptr<Model>> ext = Napi::External<std::shared_ptr<Model>>::New(
      env, holder, [](Napi::Env, std::shared_ptr<Model>* p) { delete p; });
  return addon_data(env)->model_ctor.New({ext});
}

bool ModelWrap::IsInstance(Napi::Env env, const Napi::Value& v) {
  return v.IsObject() && v.As<Napi::Object>().InstanceOf(addon_data(env)->model_ctor.Value());
}

ModelWrap::ModelWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ModelWrap>(info) {
  if (info.Length() < 1 || !info[0].IsExternal()) throw_invalid(info.Env(), "NativeModel is created by loadModel()");
  model_ = *info[0].As<Napi::External<std::shared_ptr<Model>>>().Data();
  info_ = Napi::Persistent(model_info_to_js(info.Env(), *model_));
}

std::shared_ptr<Model> ModelWrap::model(Napi::Env env) const {
  if (!model_) throw_invalid(env, "this model has been disposed");
  return model_;
}

Napi::Value ModelWrap::Info(const Napi::CallbackInfo&) { return info_.Value(); }

Napi::Value ModelWrap::Tokenize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<Model> m = model(env);
  const std::string text = arg_string(info, 0, "text");
  const bool add_bos = info.Length() > 1 && info[1].ToBoolean().Value();
  const bool parse_special = info.Length() > 2 && info[2].ToBoolean().Value();
  if (!m->has_vocab || !m->vocab.tokenizer) throw_invalid(env, m->path + " was opened without a vocabulary");
  return to_int32_array(env, m->vocab.tokenizer->encode(text, add_bos, parse_special));
}

int32_t ModelWrap::token_arg(const Napi::CallbackInfo& info) const {
  const double id = arg_number(info, 0, "token id");
  if (id != std::floor(id) || id < 0 || id >= (double)model_->vocab.size()) {
    throw_invalid(info.Env(), strprintf("token id %g is outside the vocabulary (0..%lld)", id,
                                        (long long)model_->vocab.size() - 1));
  }
  return (int32_t)id;
}

Napi::Value ModelWrap::TokenBytes(const Napi::CallbackInfo& info) {
  model(info.Env());
  return to_uint8_array(info.Env(), model_->vocab.token_bytes(token_arg(info)));
}

Napi::Value ModelWrap::TokenText(const Napi::CallbackInfo& info) {
  model(info.Env());
  const int32_t id = token_arg(info);
  if (model_->vocab.tokenizer) return Napi::String::New(info.Env(), model_->vocab.tokenizer->token_text(id));
  return Napi::String::New(info.Env(), model_->vocab.pieces[(size_t)id]);
}

Napi::Value ModelWrap::IsEog(const Napi::CallbackInfo& info) {
  model(info.Env());
  const int32_t id = token_arg(info);
  const Vocab& v = model_->vocab;
  return Napi::Boolean::New(info.Env(), v.tokenizer ? v.tokenizer->is_eog(id) : id == v.eos_id);
}

Napi::Value ModelWrap::CreateContext(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<Model> m = model(env);
  Napi::Value opts = info.Length() > 0 ? info[0] : env.Undefined();
  const double n_ctx = opt_number(env, opts, "contextLength", 0);
  const double threads = opt_number(env, opts, "threads", 0);
  if (n_ctx < 0 || n_ctx != std::floor(n_ctx) || n_ctx > (1 << 24)) {
    throw_invalid(env, strprintf("contextLength must be a positive integer up to %d, got %g", 1 << 24, n_ctx));
  }
  if (threads < 0 || threads != std::floor(threads) || threads > 256) {
    throw_invalid(env, strprintf("threads must be an integer between 1 and 256, got %g", threads));
  }
  const std::string kv_type = opt_string(env, opts, "kvCacheType", "f16");
  if (kv_type != "f16" && kv_type != "f32") {
    throw_invalid(env, "kvCacheType must be 'f16' or 'f32', got '" + kv_type + "'");
  }
  // device: 'auto' (CUDA when usable, else the CPU with backend.notice saying why), 'cpu', 'cuda'
  // (an error when no GPU); gpuLayers: how many of the last layers go to the GPU (default all).
  ContextDevice device;
  const std::string kind = opt_string(env, opts, "device", "auto");
  if (kind == "auto") {
    device.kind = ContextDevice::Auto;
  } else if (kind == "cpu") {
    device.kind = ContextDevice::Cpu;
  } else if (kind == "cuda") {
    device.kind = ContextDevice::Cuda;
  } else {
    throw_invalid(env, "device must be 'auto', 'cpu' or 'cuda', got '" + kind + "'");
  }
  const double gpu_layers = opt_number(env, opts, "gpuLayers", -1);
  if (gpu_layers != -1 && (gpu_layers < 0 || gpu_layers != std::floor(gpu_layers) || gpu_layers > (1 << 20))) {
    throw_invalid(env, strprintf("gpuLayers must be a non-negative integer, got %g", gpu_layers));
  }
  device.gpu_layers = (int64_t)gpu_layers;
  return ContextWrap::Create(env, m, (int64_t)n_ctx, (int)threads, kv_type == "f16" ? KvType::F16 : KvType::F32,
                             device);
}

void ModelWrap::Dispose(const Napi::CallbackInfo&) { model_.reset(); }

Napi::Object model_info_to_js(Napi::Env env, const Model& m) {
  const LlamaConfig& c = m.config;
  Napi::Object o = Napi::Object::New(env);
  o.Set("format", m.format_name());
  o.Set("architecture", m.architecture);
  o.Set("name", m.name);
  o.Set("vocabSize", (double)c.vocab_size);
  o.Set("embeddingLength", (double)c.dim);
  o.Set("feedForwardLength", (double)c.hidden_dim);
  o.Set("layerCount", (double)c.n_layers);
  o.Set("headCount", (double)c.n_heads);
  o.Set("headCountKv", (double)c.n_kv_heads);
  o.Set("contextLength", (double)c.context_length);
  o.Set("ropeTheta", f32_as_decimal(c.rope_theta));
  o.Set("rmsEps", f32_as_decimal(c.rms_eps));
  o.Set("tiedEmbeddings", c.tied_embeddings);
  o.Set("tensorType", m.tensor_type);
  o.Set("parameterCount", (double)m.parameter_count);
  o.Set("fileBytes", (double)m.file_bytes);
  o.Set("bosId", (double)(m.has_vocab ? m.vocab.bos_id : 1));
  o.Set("eosId", (double)(m.has_vocab ? m.vocab.eos_id : 2));
  o.Set("eotId", (double)(m.has_vocab && m.vocab.tokenizer ? m.vocab.tokenizer->eot_id() : -1));
  o.Set("tokenizer", m.has_vocab && m.vocab.tokenizer ? m.vocab.tokenizer->kind() : "none");
  Napi::Object meta = Napi::Object::New(env);
  for (const auto& kv : m.metadata) {
    const MetaValue& v = kv.second;
    if (v.kind == MetaValue::String) {
      meta.Set(kv.first, v.string);
    } else if (v.kind == MetaValue::Bool) {
      meta.Set(kv.first, v.boolean);
    } else {
      meta.Set(kv.first, v.number);
    }
  }
  o.Set("metadata", meta);
  return o;
}

}  // namespace paddock
