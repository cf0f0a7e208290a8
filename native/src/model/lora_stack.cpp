#include "model/lora_stack.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "backend/cpu/ops.h"
#include "backend/cpu/threadpool.h"
#include "io/adapter_gguf.h"

namespace paddock {

Status lora_adapter_from_params(const Model& base, const LoraConfig& lc, ParamSet params, const std::string& source,
                                std::shared_ptr<LoraAdapter>* out) {
  auto a = std::make_shared<LoraAdapter>();
  a->source = source;
  a->config = lc;
  a->params = std::move(params);
  PD_TRY(lora_bind(base.config, lc, &a->params, source, &a->weights));
  *out = std::move(a);
  return Status();
}

Status lora_adapter_load(const Model& base, const std::string& path, std::shared_ptr<LoraAdapter>* out) {
  LoraConfig lc;
  ParamSet params;
  PD_TRY(load_adapter_file(base, path, &lc, &params));
  return lora_adapter_from_params(base, lc, std::move(params), path, out);
}

Status lora_create_random(const LlamaConfig& c, const LoraConfig& lc, uint64_t seed, float b_range, ParamSet* params) {
  LoraWeights w;
  PD_TRY(lora_create(c, lc, seed, params, &w));
  std::mt19937_64 gen(seed ^ 0x9e3779b97f4a7c15ull);  // B's stream differs from A's
  for (auto& layer : w.layers) {
    for (auto& pair : layer) {
      if (!pair.b) continue;
      for (float& v : pair.b->value) {
        const double u = (double)(gen() >> 11) * (1.0 / 9007199254740992.0);  // [0, 1)
        v = (float)((2.0 * u - 1.0) * b_range);
      }
    }
  }
  return Status();
}

Status LoraStack::set(const LlamaConfig& c, std::vector<LoraStackEntry> entries, int64_t max_tokens) {
  int64_t max_rank = 0, max_out = 0;
  std::vector<size_t> active;
  for (size_t i = 0; i < entries.size(); i++) {
    const LoraStackEntry& e = entries[i];
    if (!e.adapter) return PD_ERROR(InvalidArgument, "adapter %zu is empty", i);
    if (!std::isfinite(e.scale))
      return PD_ERROR(InvalidArgument, "adapter %s: scale must be a finite number", e.adapter->source.c_str());
    // The table was bound for some model; it must be this shape (same layers, same matrices).
    const LoraWeights& w = e.adapter->weights;
    if ((int64_t)w.layers.size() != c.n_layers)
      return PD_ERROR(InvalidArgument, "adapter %s has %zu layers, the model %lld", e.adapter->source.c_str(),
                      w.layers.size(), (long long)c.n_layers);
    for (const auto& layer : w.layers) {
      for (int t = 0; t < kLoraTargetCount; t++) {
        if (!layer[(size_t)t].a) continue;
        int64_t n_in = 0, n_out = 0;
        lora_target_shape(c, (LoraTarget)t, &n_in, &n_out);
        if (layer[(size_t)t].a->cols != n_in || layer[(size_t)t].b->rows != n_out)
          return PD_ERROR(InvalidArgument, "adapter %s was made for a model of another shape (%s)",
                          e.adapter->source.c_str(), layer[(size_t)t].a->name.c_str());
        max_rank = std::max(max_rank, layer[(size_t)t].a->rows);
        max_out = std::max(max_out, n_out);
      }
    }
    if (e.scale != 0.0f) active.push_back(i);
  }
  if (!active.empty()) {
    PD_TRY(ax_.allocate((size_t)(max_tokens * max_rank) * sizeof(float), "LoRA activations"));
    PD_TRY(bax_.allocate((size_t)(max_tokens * max_out) * sizeof(float), "LoRA activations"));
  }
  entries_ = std::move(entries);
  active_ = std::move(active);
  max_tokens_ = max_tokens;
  return Status();
}

void LoraStack::apply(ThreadPool& pool, int64_t layer, LoraTarget target, const float* x, int64_t T, float* y) {
  for (size_t i : active_) {
    const LoraStackEntry& e = entries_[i];
    const LoraWeights::Pair& p = e.adapter->weights.layers[(size_t)layer][(size_t)target];
    if (!p.a) continue;
    const int64_t rank = p.a->rows, n_in = p.a->cols, n_out = p.b->rows;
    // Two thin GEMMs through the forward's own matmul (threaded, SIMD): A x, then B (A x).
    const Tensor A = make_tensor(p.a->name, DType::F32, p.a->value.data(), n_in, rank);
    const Tensor B = make_tensor(p.b->name, DType::F32, p.b->value.data(), rank, n_out);
    float* ax = ax_.f32();
    float* bax = bax_.f32();
    matmul(&pool, A, x, T, ax);
    matmul(&pool, B, ax, T, bax);
    const float s = e.scale * e.adapter->config.scale();
    for (int64_t k = 0; k < T * n_out; k++) y[k] += s * bax[k];
  }
}

}  // namespace paddock
