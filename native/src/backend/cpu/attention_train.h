// Causal grouped-query attention for training, over a packed row whose tokens form segments
// (samples): token t attends tokens s in [seg_start[t], t]. Streamed like flash attention: the
// forward keeps only the output and each (token, head)'s log-sum-exp of scores; the backward
// recomputes a score row at a time from them, so no T x T matrix is kept per head.
// Query head h reads kv head h / (n_heads / n_kv_heads). Layouts are row-major per token:
// q/out [T, n_heads * head_dim], k/v [T, n_kv_heads * head_dim], lse [T, n_heads].
#pragma once

#include <cstdint>

namespace paddock {

class ThreadPool;

struct AttentionShape {
  int64_t T = 0, n_heads = 0, n_kv_heads = 0, head_dim = 0;
};

// Scratch the two passes need: one score row (T) and one probability row (T) per thread.
inline int64_t attention_scratch_elems(int64_t T, int n_threads) { return 2 * T * (int64_t)n_threads; }

// out = softmax(q k^T / sqrt(head_dim)) v per head within segments, lse saved. pool may be null.
// Work is dealt as (token, head) pairs round-robin; each pair is one thread's.
template <class R>
void attention_forward(ThreadPool* pool, const AttentionShape& s, const R* q, const R* k, const R* v,
                       const int32_t* seg_start, R* out, R* lse, R* scratch);

// dq, dk, dv (overwritten) from dout, given the forward's inputs, out and lse. Work is split by
// (segment, kv head) tasks: a task owns its keys' and values' gradients and its queries', and
// sums over tokens in order, so results do not depend on the thread count.
template <class R>
void attention_backward(ThreadPool* pool, const AttentionShape& s, const R* q, const R* k, const R* v,
                        const int32_t* seg_start, const R* out, const R* lse, const R* dout, R* dq, R* dk, R* dv,
                        R* scratch);

}  // namespace paddock
