// Training throughput of the CUDA backend: LoRA (or full) fine-tuning steps on a synthetic model
// of a real shape through the GpuTrainSession (the device half of the Trainer), one packed row of
// --seq tokens per step (batch 1), AdamW with global-norm clipping 1.0, as the engine runs it.
// Usage: bench_cuda_train --shape llama-3.2-1b [--type f16] [--method lora|full] [--rank 16]
//   [--alpha 32] [--seq 1024] [--steps 10] [--warmup 2] [--checkpoint] [--peak-tflops X]
// Each step: zero_grad, forward_backward, grad_norm, adamw_step, timed on the host. The loss and
// norm read back inside are sync points the engine pays too; adamw_step is left in flight (the
// session may use its own stream), so tokens/s is taken over the whole measured run closed by
// one more grad_norm, which waits for the last update. --warmup steps first, not counted.
// The same row every step, so the loss falling from first to last step is a cheap sign that the
// updates are real. FLOPs per token: bench_cuda_common.h train_flops_per_token (the HF peer,
// test/bench/peers/hf_peft_train.py, uses the same formula); MFU against the card's dense BF16
// peak. Output: one JSON line {"bench": "train", ...}.
#include <cmath>

#include "bench_cuda_common.h"

int main(int argc, char** argv) {
  using namespace benchcuda;
  const Flags flags(argc, argv);
  pd_gpu::DeviceProps dev;
  paddock::GpuBackend* backend = require_backend("bench_cuda_train", &dev);
  const std::string shape = flags.str("--shape", "llama-3.2-1b"), type = flags.str("--type", "f16");
  const std::string method = flags.str("--method", "lora");
  const int64_t T = flags.num("--seq", 1024);
  const int steps = (int)std::max(1LL, flags.num("--steps", 10)), warmup = (int)std::max(0LL, flags.num("--warmup", 2));
  if (method != "lora" && method != "full") {
    note("--method: lora or full");
    return 2;
  }
  std::shared_ptr<paddock::Model> model;
  paddock::Status st = load_synthetic(shape, type, &model);
  if (!st.ok()) return fail("loading the synthetic model", st);
  const paddock::LlamaConfig& c = model->config;

  paddock::ParamSet params;
  paddock::LoraWeights lora;
  const bool is_lora = method == "lora";
  if (is_lora) {
    paddock::LoraConfig lc;
    lc.rank = (int)flags.num("--rank", 16);
    lc.alpha = (float)flags.real("--alpha", 2.0 * lc.rank);
    st = paddock::lora_create(c, lc, /*seed=*/1, &params, &lora);
  } else {
    st = paddock::full_params_from_model(*model, &params);
  }
  if (!st.ok()) return fail("trainable parameters", st);
  paddock::AdamWState state;
  state.init(params);

  paddock::GpuTrainOptions opt;
  opt.max_T = T;
  opt.checkpoint_activations = flags.has("--checkpoint");
  std::unique_ptr<paddock::GpuTrainSession> sess;
  st = backend->create_train_session(model, params, is_lora ? &lora : nullptr, opt, &sess);
  if (st.ok()) st = sess->upload(params, state);
  if (!st.ok()) return fail("create_train_session", st);
  note("session: %.2f GiB on the device, %lld trainable parameters", sess->device_bytes() / 1073741824.0,
       (long long)params.total_elements());

  std::vector<int32_t> tokens((size_t)T + 1);
  uint64_t seed = 11;
  for (int32_t& t : tokens)
    t = 3 + (int32_t)((seed = seed * 6364136223846793005ull + 1442695040888963407ull) >> 33) % (int32_t)(c.vocab_size - 3);
  std::vector<float> weights((size_t)T, 1.0f);
  paddock::TrainRow row;
  row.tokens = tokens.data();
  row.targets = tokens.data() + 1;
  row.weights = weights.data();
  row.T = T;

  paddock::AdamWConfig ac;  // lr 2e-4, betas 0.9/0.999, clip 1.0: the engine's defaults
  std::vector<double> step_s;
  double loss_first = 0, loss_last = 0, t_measured = 0;
  for (int s = 0; s < warmup + steps; s++) {
    const double t0 = bench::now_s();
    if (s == warmup) t_measured = t0;
    double loss = 0, wsum = 0, norm = 0;
    st = sess->zero_grad();
    if (st.ok()) st = sess->forward_backward(row, 1.0f / (float)T, /*dropout_seed=*/s, &loss, &wsum);
    if (st.ok()) st = sess->grad_norm(&norm);
    const double clip = ac.clip_norm > 0 && norm > ac.clip_norm ? ac.clip_norm / (norm + 1e-6) : 1.0;
    if (st.ok()) st = sess->adamw_step(clip, ac, ac.lr, /*t=*/s);
    if (!st.ok()) return fail("training step", st);
    if (s >= warmup) step_s.push_back(bench::now_s() - t0);
    const double mean_loss = loss / std::max(wsum, 1e-30);
    if (!std::isfinite(mean_loss)) {
      note("step %d: loss is not finite (%g)", s, mean_loss);
      return 1;
    }
    if (s == 0) loss_first = mean_loss;
    loss_last = mean_loss;
  }
  double norm_after = 0;
  st = sess->grad_norm(&norm_after);  // waits for the last update
  if (!st.ok()) return fail("grad_norm", st);
  const double total = bench::now_s() - t_measured;
  const double tok_s = (double)T * steps / total;
  const int64_t n_lora = is_lora ? params.total_elements() : 0;
  const double flops_tok = train_flops_per_token(c, n_lora, T, is_lora);
  const double peak = bf16_peak_tflops(dev.name, flags.real("--peak-tflops", 0));
  const double tflops = flops_tok * tok_s / 1e12;
  JsonLine("train")
      .add("device", dev.name)
      .add("impl", "paddock")
      .add("shape", shape)
      .add("type", type)
      .add("method", method)
      .add("rank", is_lora ? (long long)lora.config.rank : 0LL)
      .add("seq", (long long)T)
      .add("batch", 1)
      .add("steps", steps)
      .add("checkpoint", opt.checkpoint_activations)
      .add("step_ms_median", median(step_s) * 1e3)
      .add("tok_s", tok_s)
      .add("flops_per_token", flops_tok)
      .add("tflops", tflops)
      .add("peak_tflops", peak)
      .add("mfu", peak > 0 ? tflops / peak : 0.0)
      .add("loss_first", loss_first)
      .add("loss_last", loss_last)
      .add("device_gib", sess->device_bytes() / 1073741824.0)
      .print();
  return 0;
}
