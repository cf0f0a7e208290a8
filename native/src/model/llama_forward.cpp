#include "model/llama_forward.h"

#include <cmath>
#include <cstring>

#include "backend/cpu/kernels.h"
#include "backend/cpu/ops.h"
#include "backend/cpu/threadpool.h"

namespace paddock {

Status ForwardScratch::init(const LlamaConfig& c, int64_t max_tok, int64_t n_ctx, int threads) {
  max_tokens = max_tok;
  n_threads = threads;
  const size_t T = (size_t)max_tok, f = sizeof(float);
  PD_TRY(x.allocate(T * c.dim * f, "activations"));
  PD_TRY(xb.allocate(T * c.dim * f, "activations"));
  PD_TRY(xb2.allocate(T * c.dim * f, "activations"));
  PD_TRY(q.allocate(T * c.dim * f, "activations"));
  PD_TRY(hb.allocate(T * c.hidden_dim * f, "activations"));
  PD_TRY(hb2.allocate(T * c.hidden_dim * f, "activations"));
  PD_TRY(att.allocate((size_t)threads * n_ctx * f, "attention scores"));
  PD_TRY(rope.allocate(T * c.head_dim() * f, "RoPE tables"));
  PD_TRY(logits.allocate((size_t)c.vocab_size * f, "logits"));
  return Status();
}

// Causal grouped-query attention for tokens [0, T) of the chunk: query head h reads kv head
// h / (n_heads / n_kv_heads); token t sees positions 0..pos0+t. Output into s.xb.
static void attention(const LlamaConfig& c, ThreadPool& pool, const KvCache& kv, ForwardScratch& s, int64_t layer,
                      int64_t T, int64_t pos0) {
  const CpuKernels& k = cpu_kernels();
  const int64_t hd = c.head_dim(), n_heads = c.n_heads, group = c.n_heads / c.n_kv_heads, dim = c.dim;
  const float scale = 1.0f / std::sqrt((float)hd);
  auto run = [&](int ith, int nth) {
    int64_t i0, i1;
    split_range(T * n_heads, ith, nth, &i0, &i1);
    float* att = s.att.f32() + (int64_t)ith * kv.n_ctx;
    for (int64_t i = i0; i < i1; i++) {
      const int64_t t = i / n_heads, h = i % n_heads, kvh = h / group, n_pos = pos0 + t + 1;
      const float* q = s.q.f32() + t * dim + h * hd;
      k.attn_scores(q, kv.k_at(layer, 0) + kvh * hd, kv.kv_dim, n_pos, hd, scale, att);
      k.softmax(att, n_pos);
      k.attn_values(att, kv.v_at(layer, 0) + kvh * hd, kv.kv_dim, n_pos, hd, s.xb.f32() + t * dim + h * hd);
    }
  };
  const double work = (double)T * n_heads * (pos0 + T) * hd;
  if (work < 64.0 * 1024.0 || s.n_threads == 1) {
    run(0, 1);
  } else {
    pool.run(run);
  }
}

void llama_forward(const Model& m, ThreadPool& pool, KvCache& kv, ForwardScratch& s, const int32_t* tokens,
                   int64_t T, int64_t pos0, bool want_logits) {
  const LlamaConfig& c = m.config;
  const LlamaWeights& w = m.weights;
  const int64_t dim = c.dim, hid = c.hidden_dim, hd = c.head_dim(), kvd = c.kv_dim();
  float* x = s.x.f32();
  float* xb = s.xb.f32();
  float* xb2 = s.xb2.f32();
  float* q = s.q.f32();
  const float* freq_factors = w.rope_freqs.empty() ? nullptr : (const float*)w.rope_freqs.data;

  for (int64_t t = 0; t < T; t++) {
    get_row_f32(w.tok_embd, tokens[t], x + t * dim);
    float* r = s.rope.f32() + t * hd;
    rope_angles(pos0 + t, (int)hd, c.rope_theta, freq_factors, r, r + hd / 2);
  }

  for (int64_t l = 0; l < c.n_layers; l++) {
    const LlamaLayer& L = w.layers[(size_t)l];
    // attention block: x += wo(attention(rope(wq xn), rope(wk xn), wv xn)), xn = rmsnorm(x)
    for (int64_t t = 0; t < T; t++)
      rmsnorm(xb + t * dim, x + t * dim, (const float*)L.attn_norm.data, dim, c.rms_eps);
    float* kc = kv.k_at(l, pos0);  // this chunk's rows of the cache
    float* vc = kv.v_at(l, pos0);
    matmul(&pool, L.wq, xb, T, q);
    matmul(&pool, L.wk, xb, T, kc);
    matmul(&pool, L.wv, xb, T, vc);
    for (int64_t t = 0; t < T; t++) {
      const float* r = s.rope.f32() + t * hd;
      rope_apply(q + t * dim, (int)c.n_heads, (int)hd, r, r + hd / 2);
      rope_apply(kc + t * kvd, (int)c.n_kv_heads, (int)hd, r, r + hd / 2);
    }
    attention(c, pool, kv, s, l, T, pos0);
    matmul(&pool, L.wo, xb, T, xb2);
    for (int64_t i = 0; i < T * dim; i++) x[i] += xb2[i];

    // feed-forward block: x += w_down(silu(w_gate xn) * w_up xn), xn = rmsnorm(x)
    for (int64_t t = 0; t < T; t++)
      rmsnorm(xb + t * dim, x + t * dim, (const float*)L.ffn_norm.data, dim, c.rms_eps);
    matmul(&pool, L.w_gate, xb, T, s.hb.f32());
    matmul(&pool, L.w_up, xb, T, s.hb2.f32());
    silu_mul(s.hb.f32(), s.hb2.f32(), T * hid);
    matmul(&pool, L.w_down, s.hb.f32(), T, xb2);
    for (int64_t i = 0; i < T * dim; i++) x[i] += xb2[i];
  }

  if (!want_logits) return;
  const float* last = x + (T - 1) * dim;
  rmsnorm(xb, last, (const float*)w.output_norm.data, dim, c.rms_eps);
  matmul(&pool, w.classifier(), xb, 1, s.logits.f32());
}

}  // namespace paddock
