// The CUDA training session against the CPU training graph on stories260K (dim 64, 5 layers,
// GQA 8/4 heads of 8, FFN 172, vocab 512):
//  (a) gradient parity per parameter tensor, LoRA on all seven targets (B set to small random
//      values so A's gradients are not zero) and full fine-tuning, plus LoRA with dropout (the
//      GPU draws the CPU's hash masks) and with activation checkpointing, and QLoRA over a
//      Q8_0 export of the model (Q8_0 and F16 matrices dequantized on the device);
//  (b) a 10-step AdamW run through Trainer on the CPU and on the GPU from the same seed;
//  (c) a packed row of two segments (positions restart) with masked positions, in (a);
//  (d) a checkpoint saved by the GPU run and loaded by a CPU run: the same parameter bits, and
//      the CPU resumes where the GPU stopped;
//  (e) the products' production paths forced onto these small shapes (ProductTuning): the
//      first LoRA case runs its rank products split-K (16 "SMs", slices of >= 16), and QLoRA
//      dequantizes its base in slabs of at most 4096 values (classifier 8 slabs of 64 rows,
//      gate/up 64 + 64 + 44 rows, F16 down 4 x 16 rows), with the session's scratch shown to
//      shrink from the largest matrix to the bound.
// The session exposes no gradient download; the test reads them through AdamW with beta1 = 0,
// whose first moment after one step is exactly the gradient (m = 0 * 0 + 1 * g).
// Every product on the device has BF16 inputs (8-bit mantissa, relative rounding 2^-9) and
// F32 accumulation, against the CPU's F32 throughout: gradients agree to nmse ~1e-3.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "backend/cpu/threadpool.h"
#include "backend/cuda/cuda_train_linear.h"
#if defined(PADDOCK_CUDA_EMU)
#include "backend/cuda/emu/emulator.h"
#endif
#include "backend/gpu/gpu_backend.h"
#include "cuda_testing.h"
#include "io/model_loader.h"
#include "model/llama_train.h"
#include "model/lora.h"
#include "model/lora_merge.h"
#include "stories260k.h"
#include "train/trainer.h"

extern "C" paddock::GpuBackend* paddock_cuda_backend_v1();

using namespace paddock;

namespace {

// BF16 products vs F32 (see the header). Measured (emulator, exact mma): up to 1.6e-3, the
// largest on early layers' LoRA A (dz^T x sums over the row with cancellation, after five
// layers of BF16 dy) and 2.3e-3 with dropout (x / (1 - p) rounded to BF16 once more); the
// bound is ~2x that. A wrong index, mask or missing term shows as nmse ~1.
constexpr double kGradNmse = 5e-3;
// QLoRA over Q8_0: the CPU reference itself rounds activations to 8 bits for its Q8_0 dot
// products while the device dequantizes W to BF16: measured 3.5e-3, bound ~3x.
constexpr double kGradNmseQ8 = 1e-2;
constexpr double kLossRel = 1e-2;       // the bound on one row's loss
constexpr double kCurveRel = 2e-2;      // every step of the 10-step curve (measured max 5.9e-3)
// Gradient norms of the two runs drift further apart than losses at lr 1e-2 (measured 3.3%
// at step 5, where the norm spikes): a looser bound that still catches a missing term.
constexpr double kNormRel = 0.1;
constexpr int64_t kMaxT = 48;

uint32_t lcg(uint32_t* s) {
  *s = *s * 1664525u + 1013904223u;
  return *s >> 8;
}

// A row of T tokens with ragged lengths (T not a multiple of any tile). segments: two packed
// samples (positions restart at the second); the first `masked` positions of each sample
// carry no loss, the rest weight 1 or 0.5.
struct Row {
  std::vector<int32_t> tokens, targets, positions, segments;
  std::vector<float> weights;
  bool packed = false;
  TrainRow view() const {
    TrainRow r;
    r.tokens = tokens.data();
    r.targets = targets.data();
    r.weights = weights.data();
    r.positions = packed ? positions.data() : nullptr;
    r.segments = packed ? segments.data() : nullptr;
    r.T = (int64_t)tokens.size();
    return r;
  }
};

Row make_row(int64_t T, bool packed, int masked, uint32_t seed, int64_t vocab) {
  Row r;
  r.packed = packed;
  const int64_t split = packed ? T * 3 / 5 : T;
  for (int64_t t = 0; t < T; t++) {
    r.tokens.push_back((int32_t)(lcg(&seed) % (uint32_t)vocab));
    r.targets.push_back((int32_t)(lcg(&seed) % (uint32_t)vocab));
    const int64_t pos = t < split ? t : t - split;
    r.positions.push_back((int32_t)pos);
    r.segments.push_back(t < split ? 0 : 1);
    r.weights.push_back(pos < masked ? 0.0f : (t % 3 == 0 ? 0.5f : 1.0f));
  }
  return r;
}

double row_weight(const TrainRow& r) {
  double w = 0;
  for (int64_t t = 0; t < r.T; t++) w += r.weights[t];
  return w;
}

// The gradients a session accumulated, through one AdamW step with beta1 = 0 (see the header).
std::vector<std::vector<float>> session_grads(GpuTrainSession& s, const ParamSet& like) {
  AdamWConfig c;
  c.beta1 = 0.0, c.beta2 = 0.5, c.weight_decay = 0.0, c.clip_norm = 0.0;
  CHECK_OK(s.adamw_step(1.0, c, 1e-6, 1));
  ParamSet copy = like;
  AdamWState st;
  CHECK_OK(s.download(&copy, &st));
  return st.m;
}

struct ParityCase {
  const char* name;
  bool full = false;
  bool packed = false;
  float dropout = 0.0f;
  bool checkpoint = false;
  double bound = kGradNmse;
  paddock::ProductTuning tuning;  // (e): the product paths the session takes
};

// Sets the process-wide tuning for one session's creation and restores the defaults after.
struct TuningScope {
  explicit TuningScope(const ProductTuning& t) { product_tuning() = t; }
  ~TuningScope() { product_tuning() = ProductTuning(); }
};

// (e) Split-K on stories260K's rank products (T = 45: two slices of 32 + 13 for dA, dB).
ProductTuning split_k_tuning() {
  ProductTuning t;
  t.splitk_sm_count = 16;
  t.splitk_min_slice_k = 16;
  return t;
}
// (e) QLoRA slabs of at most 4096 BF16 values (64 rows of 64).
constexpr int64_t kTestSlabElements = 4096;
ProductTuning small_slabs() {
  ProductTuning t;
  t.weight_slab_elements = kTestSlabElements;
  return t;
}

// One row's forward/backward on the CPU graph and on a GPU session from the same parameters.
void gradient_parity(GpuBackend* backend, const std::shared_ptr<Model>& model, const ParityCase& pc) {
  std::printf("(a/c) gradient parity: %s\n", pc.name);
  const LlamaConfig& c = model->config;
  ParamSet ps;
  LoraWeights lw;
  LoraConfig lc;
  lc.rank = 4, lc.alpha = 8.0f, lc.dropout = pc.dropout, lc.targets = kAllLoraTargets;
  if (pc.full) {
    CHECK_OK(full_params_from_model(*model, &ps));
  } else {
    CHECK_OK(lora_create(c, lc, 7, &ps, &lw));
    uint32_t seed = 99;  // B = small random values, so every A gets a gradient
    for (Param& p : ps)
      if (p.name.size() > 7 && p.name.compare(p.name.size() - 7, 7, ".lora_b") == 0)
        for (float& v : p.value) v = ((float)(lcg(&seed) % 2001) / 1000.0f - 1.0f) * 0.05f;
  }
  const Row row = make_row(pc.packed ? 45 : 37, pc.packed, pc.packed ? 3 : 5, pc.full ? 11u : 5u, c.vocab_size);
  const TrainRow tr = row.view();
  const float scale = (float)(1.0 / row_weight(tr));
  const uint64_t dropout_seed = 1234;

  TrainModel tm;
  tm.base = model.get();
  if (pc.full)
    tm.full = &ps;
  else
    tm.lora = &lw;
  TrainGraph graph;
  CHECK_OK(graph.init(tm, kMaxT, 1));
  ThreadPool pool(1);
  ps.zero_grad();
  double cpu_loss = 0, cpu_w = 0;
  CHECK_OK(graph.forward_backward(pool, tr, scale, dropout_seed, &cpu_loss, &cpu_w));

  GpuTrainOptions o;
  o.max_T = kMaxT;
  o.checkpoint_activations = pc.checkpoint;
  o.lora_dropout = pc.dropout;
  std::unique_ptr<GpuTrainSession> s;
  const TuningScope scope(pc.tuning);
  Status st = backend->create_train_session(model, ps, pc.full ? nullptr : &lw, o, &s);
  CHECK_OK(st);
  if (!st.ok()) return;
  CHECK_OK(s->zero_grad());
  double gpu_loss = 0, gpu_w = 0;
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_OK(s->forward_backward(tr, scale, dropout_seed, &gpu_loss, &gpu_w));
  std::printf("  device forward_backward: %.2f s (T = %lld)\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), (long long)tr.T);
  const double rel = std::fabs(gpu_loss - cpu_loss) / std::fabs(cpu_loss);
  std::printf("  loss cpu %.6f gpu %.6f (relative %.2e, bound %.0e), weight %.1f / %.1f\n", cpu_loss / cpu_w,
              gpu_loss / gpu_w, rel, kLossRel, cpu_w, gpu_w);
  CHECK(rel <= kLossRel);
  CHECK(gpu_w == cpu_w);
  const std::vector<std::vector<float>> g = session_grads(*s, ps);
  CHECK(g.size() == ps.size());
  double worst = 0;
  for (size_t i = 0; i < ps.size() && i < g.size(); i++) {
    const cudatest::Compare cmp = cudatest::compare(g[i], ps[i].grad);
    worst = std::fmax(worst, cmp.nmse);
    const bool ok = cmp.non_finite == 0 && cmp.nmse <= pc.bound && g[i].size() == ps[i].grad.size();
    if (!ok || i < 2 || i + 1 == ps.size()) cudatest::check_close(ps[i].name.c_str(), g[i], ps[i].grad, pc.bound);
    else CHECK(ok);
  }
  std::printf("  %zu tensors, largest gradient nmse %.3g (bound %.0e)\n", ps.size(), worst, pc.bound);
}

TrainerConfig curve_config(bool gpu, GpuBackend* backend) {
  TrainerConfig tc;
  tc.method = TrainMethod::Lora;
  tc.lora.rank = 4, tc.lora.alpha = 8.0f, tc.lora.targets = kAllLoraTargets;
  tc.optimizer.lr = 1e-2, tc.optimizer.beta1 = 0.9, tc.optimizer.beta2 = 0.95, tc.optimizer.clip_norm = 1.0;
  tc.schedule.kind = ScheduleKind::Constant;
  tc.max_seq_len = kMaxT;
  tc.seed = 3;
  if (gpu) {
    tc.device.kind = TrainDeviceKind::Cuda;
    tc.device.backend = backend;
  }
  return tc;
}

// (b) and (d): the same 10 steps on both devices, then a GPU checkpoint resumed on the CPU.
void curve_and_checkpoint(GpuBackend* backend, const std::shared_ptr<Model>& model) {
  std::printf("(b) 10-step AdamW curve, LoRA r4 on all targets, lr 1e-2, one packed row per step\n");
  // The curve trains on one packed row (emulated steps are slow); evaluation and steps 11-12
  // take two rows, so gradient accumulation over rows runs too.
  const Row packed = make_row(44, true, 3, 20, model->config.vocab_size);
  const Row r1 = make_row(30, false, 4, 21, model->config.vocab_size);  // one sample (no segments)
  const Row r2 = make_row(21, true, 2, 22, model->config.vocab_size);
  const std::vector<TrainRow> curve_rows = {packed.view()};
  const std::vector<TrainRow> rows = {r1.view(), r2.view()};
  std::unique_ptr<Trainer> cpu, gpu;
  CHECK_OK(Trainer::create(model.get(), curve_config(false, backend), &cpu));
  CHECK_OK(Trainer::create(model.get(), curve_config(true, backend), &gpu));
  if (!cpu || !gpu) return;
  CHECK(gpu->backend_info().name == "cuda" && gpu->backend_info().notice.empty());
  CHECK(gpu->backend_info().device_bytes > 0 && !gpu->backend_info().device_name.empty());
  CHECK(cpu->backend_info().name == "cpu");
  std::printf("  gpu backend: %s on %s, %.2f MiB on the device\n", gpu->backend_info().name.c_str(),
              gpu->backend_info().device_name.c_str(), gpu->backend_info().device_bytes / 1048576.0);
  double worst = 0;
  std::vector<double> lc, lg;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 10; i++) {
    StepResult a, b;
    CHECK_OK(cpu->step(curve_rows, &a));
    CHECK_OK(gpu->step(curve_rows, &b));
    const double rel = std::fabs(b.loss - a.loss) / a.loss;
    worst = std::fmax(worst, rel);
    std::printf("  step %2d  loss cpu %.6f gpu %.6f (rel %.2e)  grad norm cpu %.5f gpu %.5f\n", i + 1, a.loss, b.loss,
                rel, a.grad_norm, b.grad_norm);
    CHECK(rel <= kCurveRel);
    CHECK(std::fabs(b.grad_norm - a.grad_norm) <= kNormRel * a.grad_norm);
    CHECK(b.tokens == a.tokens && b.loss_tokens == a.loss_tokens);
    lc.push_back(a.loss);
    lg.push_back(b.loss);
  }
  std::printf("  largest relative loss difference %.2e (bound %.0e); 10 steps on both took %.1f s\n", worst, kCurveRel,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  CHECK(lg.back() < lg.front() && lc.back() < lc.front());  // both really learn
  double ec = 0, eg = 0;
  CHECK_OK(cpu->evaluate(rows, &ec));
  CHECK_OK(gpu->evaluate(rows, &eg));
  std::printf("  evaluate after 10 steps: cpu %.6f gpu %.6f\n", ec, eg);
  CHECK(std::fabs(eg - ec) <= kCurveRel * ec);

  std::printf("(d) checkpoint saved on the GPU, loaded on the CPU\n");
  const std::string path = "/tmp/paddock_test_cuda_train.ckpt";
  CHECK_OK(gpu->save_checkpoint(path, "{\"cursor\":7}"));
  std::unique_ptr<Trainer> resumed;
  CHECK_OK(Trainer::create(model.get(), curve_config(false, backend), &resumed));
  if (!resumed) return;
  std::string extra;
  CHECK_OK(resumed->load_checkpoint(path, &extra));
  CHECK(extra == "{\"cursor\":7}" && resumed->steps_done() == 10);
  const ParamSet& pg = gpu->params();
  const ParamSet& pr = resumed->params();
  size_t differ = 0;
  CHECK(pg.size() == pr.size());
  for (size_t i = 0; i < pg.size() && i < pr.size(); i++)
    for (size_t j = 0; j < pg[i].value.size(); j++) differ += pg[i].value[j] != pr[i].value[j];
  std::printf("  %zu parameter values differ between the GPU run and the CPU resume\n", differ);
  CHECK(differ == 0);
  // The resumed CPU run and the GPU run take step 11 from the same state.
  StepResult a, b;
  CHECK_OK(resumed->step(rows, &a));
  CHECK_OK(gpu->step(rows, &b));
  std::printf("  step 11: cpu (resumed) %.6f gpu %.6f\n", a.loss, b.loss);
  CHECK(a.step == 11 && b.step == 11 && std::fabs(a.loss - b.loss) <= kCurveRel * a.loss);
  // And back: a CPU checkpoint uploads into the GPU run (load_checkpoint then step).
  CHECK_OK(resumed->save_checkpoint(path, "{}"));
  CHECK_OK(gpu->load_checkpoint(path, &extra));
  StepResult c2, g2;
  CHECK_OK(resumed->step(curve_rows, &c2));
  CHECK_OK(gpu->step(curve_rows, &g2));
  std::printf("  step 12 after loading the CPU checkpoint on the GPU: cpu %.6f gpu %.6f\n", c2.loss, g2.loss);
  CHECK(std::fabs(c2.loss - g2.loss) <= kCurveRel * c2.loss);
  std::remove(path.c_str());
}

}  // namespace

// Device choice: Auto falls back to the CPU with a notice naming why; Cuda refuses instead.
void device_selection(GpuBackend* backend, const std::shared_ptr<Model>& model) {
  std::printf("device selection\n");
  TrainerConfig tc = curve_config(true, backend);
  tc.device.index = 7;  // no such device
  std::unique_ptr<Trainer> t;
  const Status st = Trainer::create(model.get(), tc, &t);
  std::printf("  cuda:7 -> %s\n", st.message().c_str());
  CHECK(!st.ok() && !t);
  tc.device.kind = TrainDeviceKind::Auto;
  CHECK_OK(Trainer::create(model.get(), tc, &t));
  if (!t) return;
  std::printf("  auto:7 -> %s (%s)\n", t->backend_info().name.c_str(), t->backend_info().notice.c_str());
  CHECK(t->backend_info().name == "cpu" && t->backend_info().notice.find("device 7") != std::string::npos);
}

// stories260K written as "q8_0" (rows of 64 become Q8_0, ffn_down's rows of 172 F16): a
// quantized base for QLoRA.
std::shared_ptr<Model> quantized_copy(const Model& m) {
  const std::string path = "/tmp/paddock-test-cuda-train-q8_0.gguf";
  ParamSet zero;
  LoraWeights lw;
  LoraConfig lc;
  std::shared_ptr<Model> q;
  CHECK_OK(lora_create(m.config, lc, 1, &zero, &lw));  // B = 0: the merge is the base itself
  CHECK_OK(export_merged_gguf(m, &lc, &zero, nullptr, "q8_0", path));
  CHECK_OK(load_model(path, LoadOptions(), &q));
  std::remove(path.c_str());
  std::remove(modelfile_path_for(path).c_str());
  if (q) {
    CHECK(q->weights.layers[0].wq.type == DType::Q8_0);
    std::printf("QLoRA base: attn_q %s, ffn_down %s, token_embd %s\n", dtype_name(q->weights.layers[0].wq.type),
                dtype_name(q->weights.layers[0].w_down.type), dtype_name(q->weights.tok_embd.type));
  }
  return q;
}

// (e) QLoRA's dequantization scratch: with an unbounded slab it is the largest quantized matrix
// (the old whole-matrix copy); with kTestSlabElements it is exactly the bound (the classifier's
// 64-row slabs reach it, no other slab exceeds it), so the session holds that much less.
void qlora_scratch_is_bounded(GpuBackend* backend, const std::shared_ptr<Model>& q8) {
  std::printf("(e) QLoRA dequantization scratch\n");
  ParamSet ps;
  LoraWeights lw;
  LoraConfig lc;
  lc.rank = 4, lc.targets = kAllLoraTargets;
  CHECK_OK(lora_create(q8->config, lc, 7, &ps, &lw));
  GpuTrainOptions o;
  o.max_T = kMaxT;
  auto bytes_with = [&](int64_t slab_elements) -> uint64_t {
    ProductTuning t;
    t.weight_slab_elements = slab_elements;
    const TuningScope scope(t);
    std::unique_ptr<GpuTrainSession> s;
    CHECK_OK(backend->create_train_session(q8, ps, &lw, o, &s));
    return s ? s->device_bytes() : 0;
  };
  const int64_t largest = q8->weights.tok_embd.nelements();  // [vocab, dim], also the tied classifier
  const uint64_t whole = bytes_with((int64_t)1 << 40), slabbed = bytes_with(kTestSlabElements);
  std::printf("  session bytes: whole-matrix scratch %llu, slabs of %lld values %llu (largest matrix %lld values)\n",
              (unsigned long long)whole, (long long)kTestSlabElements, (unsigned long long)slabbed, (long long)largest);
  CHECK(q8->weights.tok_embd.type != DType::BF16 && largest > kTestSlabElements);
  CHECK(whole - slabbed == (uint64_t)(largest - kTestSlabElements) * sizeof(uint16_t));
}

// (e) The split-K tuning really splits the session's rank products: the same forward launches
// more kernels (slices + reduces) and gives the same loss up to F32 summation order. Emulator
// only: it counts launches.
void split_k_is_wired(GpuBackend* backend, const std::shared_ptr<Model>& model) {
#if defined(PADDOCK_CUDA_EMU)
  std::printf("(e) split-K rank products in the session\n");
  ParamSet ps;
  LoraWeights lw;
  LoraConfig lc;
  lc.rank = 4, lc.targets = kAllLoraTargets;
  CHECK_OK(lora_create(model->config, lc, 7, &ps, &lw));
  const Row row = make_row(45, true, 3, 5, model->config.vocab_size);
  GpuTrainOptions o;
  o.max_T = kMaxT;
  auto forward = [&](const ProductTuning& t, uint64_t* launches) -> double {
    const TuningScope scope(t);
    std::unique_ptr<GpuTrainSession> s;
    CHECK_OK(backend->create_train_session(model, ps, &lw, o, &s));
    double loss = 0, w = 0;
    const uint64_t l0 = pd_emu::launch_count();
    if (s) CHECK_OK(s->forward(row.view(), &loss, &w));
    *launches = pd_emu::launch_count() - l0;
    return loss;
  };
  uint64_t plain_launches = 0, split_launches = 0;
  const double plain = forward(ProductTuning(), &plain_launches);
  const double split = forward(split_k_tuning(), &split_launches);
  std::printf("  forward: %llu launches unsplit, %llu split; loss %.7f vs %.7f\n", (unsigned long long)plain_launches,
              (unsigned long long)split_launches, plain, split);
  CHECK(split_launches > plain_launches);
  CHECK(std::fabs(split - plain) <= 1e-5 * std::fabs(plain));
#else
  (void)backend, (void)model;
#endif
}

int main(int argc, char** argv) {
  cudatest::require_device("test_cuda_train");
  const std::string dir = pdtest::stories260k_dir(argc, argv);
  if (!pdtest::stories260k_present(dir)) return pdtest::kSkip;
  std::shared_ptr<Model> model = pdtest::load_stories260k(dir);
  GpuBackend* backend = paddock_cuda_backend_v1();
  if (!model || !backend) return pdtest::finish("test_cuda_train");
  gradient_parity(backend, model, {"LoRA r4, packed row of 2 samples, masked positions, split-K rank products", false,
                                   true, 0.0f, false, kGradNmse, split_k_tuning()});
  gradient_parity(backend, model, {"LoRA r4, dropout 0.2, checkpointed activations", false, true, 0.2f, true, kGradNmse,
                                   ProductTuning()});
  gradient_parity(backend, model, {"full fine-tuning, packed row", true, true, 0.0f, false, kGradNmse, ProductTuning()});
  if (std::shared_ptr<Model> q8 = quantized_copy(*model)) {
    gradient_parity(backend, q8, {"QLoRA r4 over the Q8_0 base in slabs, packed row", false, true, 0.0f, false,
                                  kGradNmseQ8, small_slabs()});
    qlora_scratch_is_bounded(backend, q8);
  }
  split_k_is_wired(backend, model);
  device_selection(backend, model);
  curve_and_checkpoint(backend, model);
  return pdtest::finish("test_cuda_train");
}
