#include "model/llama_forward.h"

#include <cmath>
#include <cstring>

#include "backend/cpu/kernels.h"
#include "backend/cpu/ops.h"
#include "backend/cpu/threadpool.h"
#include "model/lora_stack.h"

namespace paddock {

Status ForwardScratch::init(const LlamaConfig& c, int64_t max_tok, int64_t n_ctx, int threads) {
  max_tokens = max_tok;
  n_threads = threads;
  const size_t T = (size_t)max_tok, f = sizeof(float);
  PD_TRY(x.allocate(T * c.dim * f, "activations"));
  PD_TRY(xb.allocate(T * c.dim * f, "activations"));
  PD_TRY(xb2.allocate(T * c.dim * f, "activations"));
  PD_TRY(q.allocate(T * c.dim * f, "activations"));
  PD_TRY(kb.allocate(T * c.kv_dim() * f, "activations"));
  PD_TRY(vb.allocate(T * c.kv_dim() * f, "activations"));
  PD_TRY(hb.allocate(T * c.hidden_dim * f, "activations"));
  PD_TRY(hb2.allocate(T * c.hidden_dim * f, "activations"));
  PD_TRY(att.allocate((size_t)threads * n_ctx * f, "attention scores"));
  PD_TRY(rope.allocate(T * c.head_dim() * f, "RoPE tables"));
  PD_TRY(logits.allocate((size_t)c.vocab_size * f, "logits"));
  return Status();
}

// Runs fn(t) for every token of the chunk: split over the pool when there are several (the
// per-token ops of a prefill), on the caller alone for a decode step (a wake-up costs more).
template <class F>
static void for_each_token(ThreadPool& pool, int64_t T, F&& fn) {
  if (T == 1 || pool.size() == 1) {
    for (int64_t t = 0; t < T; t++) fn(t);
    return;
  }
  pool.run([&](int ith, int nth) {
    int64_t t0, t1;
    split_range(T, ith, nth, &t0, &t1);
    for (int64_t t = t0; t < t1; t++) fn(t);
  });
}

// Causal grouped-query attention for tokens [0, T) of the chunk: query head h reads kv head
// h / (n_heads / n_kv_heads); token t sees positions 0..pos0+t. Output into s.xb.
static void attention(const LlamaConfig& c, ThreadPool& pool, const KvCache& kv, ForwardScratch& s, int64_t layer,
                      int64_t T, int64_t pos0) {
  const CpuKernels& k = cpu_kernels();
  const int64_t hd = c.head_dim(), n_heads = c.n_heads, group = c.n_heads / c.n_kv_heads, dim = c.dim;
  const float scale = 1.0f / std::sqrt((float)hd);
  const bool f16 = kv.type == KvType::F16;
  // (token, head) pairs dealt round-robin: later tokens see more positions, so contiguous
  // shares would leave the first threads idle. Each pair is one thread's, in any case.
  auto run = [&](int ith, int nth) {
    float* att = s.att.f32() + (int64_t)ith * kv.n_ctx;
    for (int64_t i = ith; i < T * n_heads; i += nth) {
      const int64_t t = i / n_heads, h = i % n_heads, kvh = h / group, n_pos = pos0 + t + 1;
      const float* q = s.q.f32() + t * dim + h * hd;
      float* out = s.xb.f32() + t * dim + h * hd;
      if (f16) {
        k.attn_scores_f16(q, (const uint16_t*)kv.k_row(layer, 0) + kvh * hd, kv.kv_dim, n_pos, hd, scale, att);
        k.softmax(att, n_pos);
        k.attn_values_f16(att, (const uint16_t*)kv.v_row(layer, 0) + kvh * hd, kv.kv_dim, n_pos, hd, out);
      } else {
        k.attn_scores(q, (const float*)kv.k_row(layer, 0) + kvh * hd, kv.kv_dim, n_pos, hd, scale, att);
        k.softmax(att, n_pos);
        k.attn_values(att, (const float*)kv.v_row(layer, 0) + kvh * hd, kv.kv_dim, n_pos, hd, out);
      }
    }
  };
  const double work = (double)T * n_heads * (pos0 + T) * hd;
  if (work < 64.0 * 1024.0 || s.n_threads == 1) {
    run(0, 1);
  } else {
    pool.run(run);
  }
}

// Embeddings and layers [0, n_run). The last layer's FFN output is added to the stream of the
// last token only (all that the head reads) unless `all_rows`, when a device continues from
// every row.
static void run_layers(const Model& m, ThreadPool& pool, KvCache& kv, ForwardScratch& s, const int32_t* tokens,
                       int64_t T, int64_t pos0, int64_t n_run, bool all_rows, LoraStack* lora) {
  const LlamaConfig& c = m.config;
  const LlamaWeights& w = m.weights;
  const int64_t dim = c.dim, hid = c.hidden_dim, hd = c.head_dim(), kvd = c.kv_dim();
  float* x = s.x.f32();
  float* xb = s.xb.f32();
  float* xb2 = s.xb2.f32();
  float* q = s.q.f32();
  float* kb = s.kb.f32();
  float* vb = s.vb.f32();
  const float* freq_factors = w.rope_freqs.empty() ? nullptr : (const float*)w.rope_freqs.data;
  if (lora && lora->inactive()) lora = nullptr;

  for_each_token(pool, T, [&](int64_t t) {
    get_row_f32(w.tok_embd, tokens[t], x + t * dim);
    float* r = s.rope.f32() + t * hd;
    rope_angles(pos0 + t, (int)hd, c.rope_theta, freq_factors, c.rope_linear_factor, r, r + hd / 2);
  });

  for (int64_t l = 0; l < n_run; l++) {
    const LlamaLayer& L = w.layers[(size_t)l];
    // attention block: x += wo(attention(rope(wq xn), rope(wk xn), wv xn)), xn = rmsnorm(x);
    // the previous layer's FFN residual is added in the same per-token job as this norm.
    for_each_token(pool, T, [&](int64_t t) {
      if (l > 0)
        for (int64_t i = t * dim; i < (t + 1) * dim; i++) x[i] += xb2[i];
      rmsnorm(xb + t * dim, x + t * dim, (const float*)L.attn_norm.data, dim, c.rms_eps);
    });
    const Tensor* qkv[3] = {&L.wq, &L.wk, &L.wv};
    float* qkv_out[3] = {q, kb, vb};
    matmul_group(&pool, qkv, qkv_out, 3, xb, T);
    if (lora) {  // before RoPE: the adapter adds to W x itself
      lora->apply(pool, l, LoraTarget::Q, xb, T, q);
      lora->apply(pool, l, LoraTarget::K, xb, T, kb);
      lora->apply(pool, l, LoraTarget::V, xb, T, vb);
    }
    for_each_token(pool, T, [&](int64_t t) {
      const float* r = s.rope.f32() + t * hd;
      rope_apply(q + t * dim, (int)c.n_heads, (int)hd, r, r + hd / 2);
      rope_apply(kb + t * kvd, (int)c.n_kv_heads, (int)hd, r, r + hd / 2);
      kv.store(kv.k_row(l, pos0 + t), kb + t * kvd, 1);
      kv.store(kv.v_row(l, pos0 + t), vb + t * kvd, 1);
    });
    attention(c, pool, kv, s, l, T, pos0);
    matmul(&pool, L.wo, xb, T, xb2);
    if (lora) lora->apply(pool, l, LoraTarget::O, xb, T, xb2);

    // feed-forward block: x += w_down(silu(w_gate xn) * w_up xn), xn = rmsnorm(x)
    for_each_token(pool, T, [&](int64_t t) {
      for (int64_t i = t * dim; i < (t + 1) * dim; i++) x[i] += xb2[i];
      rmsnorm(xb + t * dim, x + t * dim, (const float*)L.ffn_norm.data, dim, c.rms_eps);
    });
    const Tensor* gate_up[2] = {&L.w_gate, &L.w_up};
    float* gate_up_out[2] = {s.hb.f32(), s.hb2.f32()};
    matmul_group(&pool, gate_up, gate_up_out, 2, xb, T);
    if (lora) {
      lora->apply(pool, l, LoraTarget::Gate, xb, T, s.hb.f32());
      lora->apply(pool, l, LoraTarget::Up, xb, T, s.hb2.f32());
    }
    for_each_token(pool, T, [&](int64_t t) { silu_mul(s.hb.f32() + t * hid, s.hb2.f32() + t * hid, hid); });
    matmul(&pool, L.w_down, s.hb.f32(), T, xb2);
    if (lora) lora->apply(pool, l, LoraTarget::Down, s.hb.f32(), T, xb2);
  }
  if (n_run == 0) return;
  if (all_rows) {
    for_each_token(pool, T, [&](int64_t t) {
      for (int64_t i = t * dim; i < (t + 1) * dim; i++) x[i] += xb2[i];
    });
    return;
  }
  // The last layer's FFN residual, for the last token only: nothing reads the other rows again.
  const int64_t last = (T - 1) * dim;
  for (int64_t i = 0; i < dim; i++) x[last + i] += xb2[last + i];
}

void llama_forward(const Model& m, ThreadPool& pool, KvCache& kv, ForwardScratch& s, const int32_t* tokens,
                   int64_t T, int64_t pos0, bool want_logits, LoraStack* lora) {
  const LlamaConfig& c = m.config;
  run_layers(m, pool, kv, s, tokens, T, pos0, c.n_layers, false, lora);
  if (!want_logits) return;
  const int64_t dim = c.dim, last = (T - 1) * dim;
  rmsnorm(s.xb.f32(), s.x.f32() + last, (const float*)m.weights.output_norm.data, dim, c.rms_eps);
  matmul(&pool, m.weights.classifier(), s.xb.f32(), 1, s.logits.f32());
}

void llama_forward_first_layers(const Model& m, ThreadPool& pool, KvCache& kv, ForwardScratch& s,
                                const int32_t* tokens, int64_t T, int64_t pos0, int64_t n_layers_run,
                                LoraStack* lora) {
  run_layers(m, pool, kv, s, tokens, T, pos0, n_layers_run, true, lora);
}

}  // namespace paddock
