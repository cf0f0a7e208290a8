#include "model/llama_weights.h"

#include "backend/cpu/ops.h"

namespace paddock {

static Status check(const Tensor& t, const char* what, int64_t ne0, int64_t ne1, bool norm, const std::string& src,
                    bool check_types) {
  if (t.empty()) return PD_ERROR(BadModelFile, "%s: tensor %s is missing", src.c_str(), what);
  const int64_t want_dims = ne1 > 0 ? 2 : 1;
  if (t.n_dims != want_dims || t.ne[0] != ne0 || (ne1 > 0 && t.ne[1] != ne1)) {
    std::string want = ne1 > 0 ? strprintf("[%lld, %lld]", (long long)ne0, (long long)ne1) : strprintf("[%lld]", (long long)ne0);
    return PD_ERROR(BadModelFile, "%s: tensor %s: expected shape %s, found %s", src.c_str(), t.name.c_str(),
                    want.c_str(), t.shape_string().c_str());
  }
  if (check_types && (norm ? t.type != DType::F32 : !(dtype_is_float(t.type) || dtype_is_quant_matrix(t.type)))) {
    return PD_ERROR(Unsupported, "%s: tensor %s has type %s, which this build cannot run on the CPU (supported: %s)",
                    src.c_str(), t.name.c_str(), dtype_name(t.type),
                    norm ? "F32" : "F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q5_K, Q6_K");
  }
  if (check_types && !norm && dtype_is_quant_matrix(t.type) && t.ne[0] % dtype_block_size(t.type) != 0) {
    return PD_ERROR(Unsupported, "%s: tensor %s has type %s with rows of %lld elements, not a multiple of its block size %lld",
                    src.c_str(), t.name.c_str(), dtype_name(t.type), (long long)t.ne[0],
                    (long long)dtype_block_size(t.type));
  }
  return Status();
}

Status check_llama_weights(const LlamaConfig& c, const LlamaWeights& w, const std::string& src, bool types) {
  const int64_t dim = c.dim, kv = c.kv_dim(), hid = c.hidden_dim, voc = c.vocab_size;
  PD_TRY(check(w.tok_embd, "token_embd.weight", dim, voc, false, src, types));
  PD_TRY(check(w.output_norm, "output_norm.weight", dim, 0, true, src, types));
  if (!w.output.empty()) PD_TRY(check(w.output, "output.weight", dim, voc, false, src, types));
  if (!w.rope_freqs.empty()) PD_TRY(check(w.rope_freqs, "rope_freqs.weight", c.head_dim() / 2, 0, true, src, types));
  if ((int64_t)w.layers.size() != c.n_layers) {
    return PD_ERROR(BadModelFile, "%s: expected %lld layers, found %zu", src.c_str(), (long long)c.n_layers,
                    w.layers.size());
  }
  for (size_t i = 0; i < w.layers.size(); i++) {
    const LlamaLayer& l = w.layers[i];
    std::string p = "blk." + std::to_string(i) + ".";
    PD_TRY(check(l.attn_norm, (p + "attn_norm.weight").c_str(), dim, 0, true, src, types));
    PD_TRY(check(l.wq, (p + "attn_q.weight").c_str(), dim, dim, false, src, types));
    PD_TRY(check(l.wk, (p + "attn_k.weight").c_str(), dim, kv, false, src, types));
    PD_TRY(check(l.wv, (p + "attn_v.weight").c_str(), dim, kv, false, src, types));
    PD_TRY(check(l.wo, (p + "attn_output.weight").c_str(), dim, dim, false, src, types));
    PD_TRY(check(l.ffn_norm, (p + "ffn_norm.weight").c_str(), dim, 0, true, src, types));
    PD_TRY(check(l.w_gate, (p + "ffn_gate.weight").c_str(), dim, hid, false, src, types));
    PD_TRY(check(l.w_down, (p + "ffn_down.weight").c_str(), hid, dim, false, src, types));
    PD_TRY(check(l.w_up, (p + "ffn_up.weight").c_str(), dim, hid, false, src, types));
  }
  return Status();
}

}  // namespace paddock
