// The per-token ops of the Llama training graph, forward (keeping what backward needs) and
// backward, over R = float (the engine) or double (finite-difference and golden tests).
// Each works on one token's row so the graph can split tokens over the pool; reductions over
// tokens (norm weight grads, embedding scatter) take a thread's share of the *output* and sum
// over tokens in order, so results never depend on the thread count. Attention lives in
// attention_train.h. Backward ops ADD into parameter gradients and overwrite (or, where said,
// add to) activation gradients.
#pragma once

#include <cstdint>

namespace paddock {

// out = w * (x * rstd), rstd = 1 / sqrt(mean(x^2) + eps); returns rstd (saved for backward).
// The float form computes exactly what ops.h rmsnorm does.
template <class R>
R rmsnorm_forward(R* out, const R* x, const R* w, int64_t n, R eps);
// dx (+)= d out / d x for one row: rstd * (dy*w - x * rstd^2 * mean(dy*w*x)).
template <class R>
void rmsnorm_backward(R* dx, const R* dy, const R* x, const R* w, R rstd, int64_t n, bool accumulate);
// dw[j] += sum_t dy[t, j] * x[t, j] * rstd[t] for columns j in [j0, j1), t in token order.
template <class R>
void rmsnorm_weight_grad(R* dw, const R* dy, const R* x, const R* rstd, int64_t T, int64_t n, int64_t j0, int64_t j1);

// RoPE tables for one position: cos/sin of (pos / linear_factor) * theta^(-2i/head_dim) / factor[i].
// The float form is ops.h rope_angles (so training matches inference); the double form is the
// same formula in double.
template <class R>
void rope_angles_r(int64_t pos, int head_dim, float theta, const float* freq_factors, float linear_factor,
                   R* cos_out, R* sin_out);
// RoPE's forward is ops.h's rope_apply; its backward rotates the interleaved pairs by minus the
// angle (the transpose of a rotation is its inverse), in place.
template <class R>
void rope_backward(R* dx, int n_heads, int head_dim, const R* cos_v, const R* sin_v);

// h = silu(g) * u (the float form is ops.h silu_mul's arithmetic).
template <class R>
void swiglu_forward(R* h, const R* g, const R* u, int64_t n);
// dg = dh * u * silu'(g), du = dh * silu(g); silu'(g) = s * (1 + g * (1 - s)), s = sigmoid(g).
template <class R>
void swiglu_backward(R* dg, R* du, const R* dh, const R* g, const R* u, int64_t n);

// dE[tokens[t]] += dx[t] for the vocabulary rows in [v0, v1) (a thread's share), t in order.
template <class R>
void embedding_backward(R* dE, const R* dx, const int32_t* tokens, int64_t T, int64_t dim, int64_t v0, int64_t v1);

// Cross-entropy of one position with loss weight w: returns w * (logsumexp(logits) -
// logits[target]) (in double) and writes dlogits = scale * w * (softmax(logits) - onehot(target))
// (dlogits may alias logits). w == 0 returns 0 and writes exact zeros without reading logits.
template <class R>
double cross_entropy_backward(R* dlogits, const R* logits, int64_t V, int32_t target, R w, R scale);
// logsumexp(logits) - logits[target] (no weight, no gradient), in double.
template <class R>
double cross_entropy_loss(const R* logits, int64_t V, int32_t target);

}  // namespace paddock
