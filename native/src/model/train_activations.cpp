#include "model/train_activations.h"

#include "backend/cpu/attention_train.h"

namespace paddock {

namespace {

// Hands out consecutive 64-byte aligned pieces of one allocation. Run once with no base to
// count, then again over the real storage.
template <class R>
struct Carver {
  R* base = nullptr;
  size_t used = 0;
  R* take(int64_t n) {
    R* p = base ? base + used : nullptr;
    const size_t align = 64 / sizeof(R);
    used += ((size_t)n + align - 1) / align * align;
    return p;
  }
};

}  // namespace

template <class R>
Status TrainActivations<R>::init(const LlamaConfig& c, const LoraConfig* lora, int64_t max_T, int n_threads,
                                 bool checkpoint) {
  const int64_t T = max_T, dim = c.dim, kvd = c.kv_dim(), hid = c.hidden_dim, wide = dim > hid ? dim : hid;
  const int64_t rank = lora ? lora->rank : 0;
  auto layout = [&](Carver<R>& cv) {
    layers.assign((size_t)c.n_layers, LayerActivations<R>{});
    LayerActivations<R> shared{};  // checkpoint mode: what every layer recomputes into
    for (int64_t l = 0; l < c.n_layers; l++) {
      LayerActivations<R>& a = layers[(size_t)l];
      a.x_in = cv.take(T * dim);
      if (checkpoint && l > 0) {
        R* x_in = a.x_in;
        a = shared;
        a.x_in = x_in;
        continue;
      }
      a.xn1 = cv.take(T * dim);
      a.rstd1 = cv.take(T);
      a.q = cv.take(T * dim);
      a.k = cv.take(T * kvd);
      a.v = cv.take(T * kvd);
      a.att = cv.take(T * dim);
      a.lse = cv.take(T * c.n_heads);
      a.x_mid = cv.take(T * dim);
      a.xn2 = cv.take(T * dim);
      a.rstd2 = cv.take(T);
      a.gate = cv.take(T * hid);
      a.up = cv.take(T * hid);
      a.h = cv.take(T * hid);
      for (int i = 0; i < kLoraTargetCount; i++)
        a.lora[i] = lora && lora->targets_has((LoraTarget)i) ? cv.take(T * rank) : nullptr;
      shared = a;
    }
    x_final = cv.take(T * dim);
    xn_final = cv.take(T * dim);
    rstd_final = cv.take(T);
    head_in = cv.take(T * dim);
    logits = cv.take(T * c.vocab_size);
    rope = cv.take(T * c.head_dim());
    dx = cv.take(T * dim);
    dxn = cv.take(T * dim);
    datt = cv.take(T * dim);
    proj = cv.take(T * dim);
    dq = cv.take(T * dim);
    dk = cv.take(T * kvd);
    dv = cv.take(T * kvd);
    dh = cv.take(T * hid);
    dgate = cv.take(T * hid);
    dup = cv.take(T * hid);
    lora_drop_x = lora ? cv.take(T * wide) : nullptr;
    lora_tmp = lora ? cv.take(T * wide) : nullptr;
    lora_dz = lora ? cv.take(T * rank) : nullptr;
    attn_scratch = cv.take(attention_scratch_elems(T, n_threads));
  };
  Carver<R> count;
  layout(count);
  PD_TRY(storage_.allocate(count.used * sizeof(R), "training activations"));
  Carver<R> real;
  real.base = (R*)storage_.data();
  layout(real);
  seg_start.assign((size_t)T, 0);
  head_rows.assign((size_t)T, 0);
  row_loss.assign((size_t)T, 0.0);
  return Status();
}

template struct TrainActivations<float>;
template struct TrainActivations<double>;

}  // namespace paddock
