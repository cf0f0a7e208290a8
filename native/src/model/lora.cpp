#include "model/lora.h"

#include <cmath>
#include <random>

namespace paddock {

namespace {

struct TargetNames {
  const char* key;
  const char* gguf;
  const char* hf;
};
constexpr TargetNames kTargetNames[kLoraTargetCount] = {
    {"q", "attn_q", "self_attn.q_proj"},       {"k", "attn_k", "self_attn.k_proj"},
    {"v", "attn_v", "self_attn.v_proj"},       {"o", "attn_output", "self_attn.o_proj"},
    {"gate", "ffn_gate", "mlp.gate_proj"},     {"up", "ffn_up", "mlp.up_proj"},
    {"down", "ffn_down", "mlp.down_proj"},
};

// "blk.3.attn_q.weight.lora_a": the base tensor's full GGUF name plus llama.cpp's suffix.
std::string adapter_name(int64_t layer, LoraTarget t, const char* suffix) {
  return "blk." + std::to_string(layer) + "." + lora_target_gguf(t) + ".weight." + suffix;
}

Status check_config(const LoraConfig& lc) {
  if (lc.rank < 1) return PD_ERROR(InvalidArgument, "LoRA rank must be at least 1, got %d", lc.rank);
  if ((lc.targets & kAllLoraTargets) == 0 || (lc.targets & ~kAllLoraTargets) != 0)
    return PD_ERROR(InvalidArgument, "LoRA targets mask 0x%x names no valid target", lc.targets);
  if (!(lc.dropout >= 0.0f && lc.dropout < 1.0f))
    return PD_ERROR(InvalidArgument, "LoRA dropout must be in [0, 1), got %g", (double)lc.dropout);
  if (!std::isfinite(lc.alpha)) return PD_ERROR(InvalidArgument, "LoRA alpha is not finite");
  return Status();
}

}  // namespace

const char* lora_target_key(LoraTarget t) { return kTargetNames[(int)t].key; }
const char* lora_target_gguf(LoraTarget t) { return kTargetNames[(int)t].gguf; }
const char* lora_target_hf(LoraTarget t) { return kTargetNames[(int)t].hf; }

Status parse_lora_targets(const std::string& csv, uint32_t* mask) {
  uint32_t m = 0;
  size_t start = 0;
  while (true) {
    const size_t comma = csv.find(',', start);
    const std::string item = csv.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item.empty()) return PD_ERROR(InvalidArgument, "empty entry in LoRA targets '%s'", csv.c_str());
    int found = -1;
    for (int i = 0; i < kLoraTargetCount; i++)
      if (item == kTargetNames[i].key) found = i;
    if (found < 0)
      return PD_ERROR(InvalidArgument, "unknown LoRA target '%s' in '%s' (expected q, k, v, o, gate, up, down)",
                      item.c_str(), csv.c_str());
    m |= 1u << found;
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  *mask = m;
  return Status();
}

void lora_target_shape(const LlamaConfig& c, LoraTarget t, int64_t* n_in, int64_t* n_out) {
  switch (t) {
    case LoraTarget::Q:
    case LoraTarget::O: *n_in = c.dim, *n_out = c.dim; break;
    case LoraTarget::K:
    case LoraTarget::V: *n_in = c.dim, *n_out = c.kv_dim(); break;
    case LoraTarget::Gate:
    case LoraTarget::Up: *n_in = c.dim, *n_out = c.hidden_dim; break;
    case LoraTarget::Down: *n_in = c.hidden_dim, *n_out = c.dim; break;
  }
}

// Builds out's table by calling pair_for(layer, target, n_in, n_out, &pair) for every targeted
// matrix of every layer, in layer-major, enum order (the order adapters are stored in).
template <class R, class F>
static Status build_lora_table(const LlamaConfig& c, const LoraConfig& lc, LoraWeightsT<R>* out, F&& pair_for) {
  PD_TRY(check_config(lc));
  out->config = lc;
  out->layers.assign((size_t)c.n_layers, {});
  for (int64_t l = 0; l < c.n_layers; l++) {
    for (int i = 0; i < kLoraTargetCount; i++) {
      const LoraTarget t = (LoraTarget)i;
      if (!lc.targets_has(t)) continue;
      int64_t n_in = 0, n_out = 0;
      lora_target_shape(c, t, &n_in, &n_out);
      PD_TRY(pair_for(l, t, n_in, n_out, &out->layers[(size_t)l][(size_t)i]));
    }
  }
  return Status();
}

template <class R>
Status lora_create(const LlamaConfig& c, const LoraConfig& lc, uint64_t seed, ParamSetT<R>* params,
                   LoraWeightsT<R>* out) {
  // mt19937_64's sequence is fixed by the standard; the mapping to [0, 1) is ours (53 bits),
  // so the same seed gives the same adapter with every standard library.
  std::mt19937_64 gen(seed);
  using Pair = typename LoraWeightsT<R>::Pair;
  return build_lora_table(c, lc, out, [&](int64_t l, LoraTarget t, int64_t n_in, int64_t n_out, Pair* pair) {
    ParamT<R>& a = params->add(adapter_name(l, t, "lora_a"), lc.rank, n_in);
    ParamT<R>& b = params->add(adapter_name(l, t, "lora_b"), n_out, lc.rank);
    const double bound = 1.0 / std::sqrt((double)n_in);
    for (R& v : a.value) {
      const double u = (double)(gen() >> 11) * (1.0 / 9007199254740992.0);  // [0, 1)
      v = (R)((2.0 * u - 1.0) * bound);
    }
    *pair = {&a, &b};
    return Status();
  });
}

template <class R>
Status lora_bind(const LlamaConfig& c, const LoraConfig& lc, ParamSetT<R>* params, const std::string& source,
                 LoraWeightsT<R>* out) {
  using Pair = typename LoraWeightsT<R>::Pair;
  return build_lora_table(c, lc, out, [&](int64_t l, LoraTarget t, int64_t n_in, int64_t n_out, Pair* out_pair) {
    ParamT<R>* pair[2] = {nullptr, nullptr};
    const char* suffix[2] = {"lora_a", "lora_b"};
    const int64_t rows[2] = {lc.rank, n_out}, cols[2] = {n_in, lc.rank};
    for (int j = 0; j < 2; j++) {
      const std::string name = adapter_name(l, t, suffix[j]);
      pair[j] = params->find(name);
      if (!pair[j]) return PD_ERROR(BadModelFile, "%s: LoRA tensor %s is missing", source.c_str(), name.c_str());
      if (pair[j]->rows != rows[j] || pair[j]->cols != cols[j])
        return PD_ERROR(BadModelFile, "%s: LoRA tensor %s: expected [%lld, %lld], found [%lld, %lld]",
                        source.c_str(), name.c_str(), (long long)rows[j], (long long)cols[j],
                        (long long)pair[j]->rows, (long long)pair[j]->cols);
    }
    *out_pair = {pair[0], pair[1]};
    return Status();
  });
}

template Status lora_create<float>(const LlamaConfig&, const LoraConfig&, uint64_t, ParamSetT<float>*,
                                   LoraWeightsT<float>*);
template Status lora_create<double>(const LlamaConfig&, const LoraConfig&, uint64_t, ParamSetT<double>*,
                                    LoraWeightsT<double>*);
template Status lora_bind<float>(const LlamaConfig&, const LoraConfig&, ParamSetT<float>*, const std::string&,
                                 LoraWeightsT<float>*);
template Status lora_bind<double>(const LlamaConfig&, const LoraConfig&, ParamSetT<double>*, const std::string&,
                                  LoraWeightsT<double>*);

}  // namespace paddock
