// The weight tensors of a Llama model, as views (GGML shapes: ne[0] = input dimension).
#pragma once

#include <vector>

#include "core/tensor.h"
#include "model/llama_config.h"

namespace paddock {

struct LlamaLayer {
  Tensor attn_norm;    // [dim]                F32
  Tensor wq;           // [dim, dim]           attn_q
  Tensor wk;           // [dim, kv_dim]        attn_k
  Tensor wv;           // [dim, kv_dim]        attn_v
  Tensor wo;           // [dim, dim]           attn_output
  Tensor ffn_norm;     // [dim]                F32
  Tensor w_gate;       // [dim, hidden]        ffn_gate (llama2.c w1)
  Tensor w_down;       // [hidden, dim]        ffn_down (llama2.c w2)
  Tensor w_up;         // [dim, hidden]        ffn_up   (llama2.c w3)
};

struct LlamaWeights {
  Tensor tok_embd;     // [dim, vocab]
  Tensor output_norm;  // [dim]                F32
  Tensor output;       // [dim, vocab]         empty when tied to tok_embd
  Tensor rope_freqs;   // [head_dim / 2]       optional Llama 3.1 frequency factors, F32
  std::vector<LlamaLayer> layers;

  const Tensor& classifier() const { return output.empty() ? tok_embd : output; }
};

// Checks every tensor's presence, shape and (when check_types) type against the config:
// BAD_MODEL_FILE for a missing or misshapen tensor, UNSUPPORTED for a type the CPU backend cannot
// run. Messages name the tensor and `source`.
Status check_llama_weights(const LlamaConfig& c, const LlamaWeights& w, const std::string& source,
                           bool check_types = true);

// Calls fn(tensor) for every weight tensor, in GGUF order (token_embd, blocks, output_norm, output).
template <class F>
void for_each_weight(const LlamaWeights& w, F&& fn) {
  fn(w.tok_embd);
  if (!w.rope_freqs.empty()) fn(w.rope_freqs);
  for (const LlamaLayer& l : w.layers) {
    for (const Tensor* t : {&l.attn_norm, &l.wq, &l.wk, &l.wv, &l.wo, &l.ffn_norm, &l.w_gate, &l.w_down, &l.w_up})
      fn(*t);
  }
  fn(w.output_norm);
  if (!w.output.empty()) fn(w.output);
}

}  // namespace paddock
