// Inference throughput of the CUDA backend on a synthetic model of a real shape, and a GEMM
// micro mode.
//
// Model mode: bench_cuda_infer --shape tinyllama-1.1b --type f16|q4_k [--ctx 1024]
//   [--prefill 512] [--decode 128] [--reps 3] [--chunk 512]
//   Loads the model through paddock_cuda_backend_v1()->load_forward (all layers offloaded), then
//   - prefill: --prefill tokens from position 0 in chunks of --chunk, logits of the last token
//     copied back (what a chat turn does); median of --reps after a warm-up;
//   - decode: --decode single-token steps after the prefill, greedy (argmax on the host, outside
//     the timed call), each step timed on the host including the logits' copy back: median
//     per-token time and tokens/s over the whole run; measured twice, with the step replayed as
//     a CUDA graph (the default) and with PADDOCK_CUDA_GRAPHS=0 (plain launches, the forward
//     reloaded), each line giving the kernel launches a token issues on the host (pd_launch
//     count: 0 with graphs after the capture) and the graph launches a token takes;
//   - the roofline: weight bytes one decode step reads (every offloaded tensor in its stored
//     type plus the classifier) over the device-to-device bandwidth measured here (copy of
//     1 GiB, read + written): the share of that limit is what issue 7 asks >= 80% of.
//     KV-cache bytes read at the measured positions are printed beside it, not added.
// GEMM mode: bench_cuda_infer --gemm M N K [--reps 20] [--tiles auto|large|small|wgmma]:
//   C[M,N] = A[M,K] B[N,K]^T (the forward's NT layout) through pd_cuda::gemm_with_tiles (auto:
//   what the engine's gemm() picks), BF16 in and out, F32 accumulation: TFLOP/s of the median
//   launch, and a spot check of 64 outputs against a double-precision host dot product so a
//   fast wrong kernel cannot pass as fast. The cuBLAS peer of this product is torch.matmul in
//   test/bench/peers/hf_infer.py --gemm (torch calls cuBLASLt).
// Output: one JSON line per measurement (bench "prefill", "decode", "gemm").
#include <cmath>
#include <cstdlib>

#include "backend/cuda/gemm.h"
#include "bench_cuda_common.h"

namespace {

using namespace benchcuda;

uint64_t next_random(uint64_t* s) { return (*s = *s * 6364136223846793005ull + 1442695040888963407ull) >> 33; }

double gemm_tflops(int64_t M, int64_t N, int64_t K, double ms) { return 2.0 * M * N * K / (ms * 1e-3) / 1e12; }

int run_gemm(const Flags& flags) {
  const pd_gpu::DeviceProps dev = require_gpu("bench_cuda_infer --gemm");
  const int64_t M = flags.nth("--gemm", 1, 4096), N = flags.nth("--gemm", 2, 4096), K = flags.nth("--gemm", 3, 4096);
  const int reps = (int)std::max(3LL, flags.num("--reps", 20));
  const std::string tiles_name = flags.str("--tiles", "auto");
  const pd_cuda::GemmTiles tiles = tiles_name == "large"   ? pd_cuda::GemmTiles::Large128x128
                                   : tiles_name == "small" ? pd_cuda::GemmTiles::Small64x64
                                   : tiles_name == "wgmma" ? pd_cuda::GemmTiles::Wgmma
                                                           : pd_cuda::GemmTiles::Auto;
  if (M < 1 || N < 1 || K < 1 || (tiles == pd_cuda::GemmTiles::Auto && tiles_name != "auto")) {
    note("--gemm M N K (sizes >= 1) [--tiles auto|large|small|wgmma]");
    return 2;
  }
  if (tiles == pd_cuda::GemmTiles::Wgmma && !pd_cuda::wgmma_enabled()) {  // require_gpu ran the probe
    note("--tiles wgmma: %s", pd_cuda::wgmma_status().c_str());
    return 77;
  }
  std::vector<pd_bf16> a((size_t)(M * K)), b((size_t)(N * K));
  uint64_t seed = 42;
  for (pd_bf16& v : a) v = __float2bfloat16((float)((int)(next_random(&seed) % 2001) - 1000) * 1e-3f);
  for (pd_bf16& v : b) v = __float2bfloat16((float)((int)(next_random(&seed) % 2001) - 1000) * 1e-3f);
  void* dA = pd_gpu::device_malloc(a.size() * 2);
  void* dB = pd_gpu::device_malloc(b.size() * 2);
  void* dC = pd_gpu::device_malloc((size_t)(M * N) * 2);
  if (!dA || !dB || !dC || !pd_gpu::copy_h2d(dA, a.data(), a.size() * 2) || !pd_gpu::copy_h2d(dB, b.data(), b.size() * 2)) {
    note("gemm buffers: %s", pd_gpu::last_error().c_str());
    return 1;
  }
  pd_cuda::GemmDesc d;
  d.op = pd_cuda::GemmOp::NT;
  d.ab = pd_cuda::Elem::BF16;
  d.c = pd_cuda::Elem::BF16;
  d.M = M, d.N = N, d.K = K;
  d.A = dA, d.lda = K;
  d.B = dB, d.ldb = K;
  d.C = dC, d.ldc = N;
  std::vector<double> ms_each;
  for (int i = 0; i < reps + 2; i++) {  // the first two are warm-up (module load, clocks)
    pd_gpu::Timer t;
    double ms = 0;
    if (!pd_gpu::timer_start(&t)) return 1;
    pd_cuda::gemm_with_tiles(d, tiles, nullptr);
    if (!pd_gpu::check_launch("gemm") || !pd_gpu::timer_stop_ms(&t, &ms)) {
      note("gemm: %s", pd_gpu::last_error().c_str());
      return 1;
    }
    if (i >= 2) ms_each.push_back(ms);
  }
  // Spot check: 64 outputs against double-precision dot products of the same BF16 inputs.
  std::vector<pd_bf16> c((size_t)(M * N));
  if (!pd_gpu::copy_d2h(c.data(), dC, c.size() * 2) || !pd_gpu::synchronize()) return 1;
  double err2 = 0, ref2 = 0;
  for (int s = 0; s < 64; s++) {
    const int64_t i = (int64_t)(next_random(&seed) % (uint64_t)M), j = (int64_t)(next_random(&seed) % (uint64_t)N);
    double ref = 0;
    for (int64_t k = 0; k < K; k++)
      ref += (double)__bfloat162float(a[(size_t)(i * K + k)]) * (double)__bfloat162float(b[(size_t)(j * K + k)]);
    const double got = (double)__bfloat162float(c[(size_t)(i * N + j)]);
    err2 += (got - ref) * (got - ref);
    ref2 += ref * ref;
  }
  const double rel_rms = std::sqrt(err2 / std::max(ref2, 1e-30));
  pd_gpu::device_free(dA);
  pd_gpu::device_free(dB);
  pd_gpu::device_free(dC);
  const double med = median(ms_each);
  JsonLine("gemm")
      .add("device", dev.name)
      .add("impl", "paddock")
      .add("M", (long long)M)
      .add("N", (long long)N)
      .add("K", (long long)K)
      .add("tiles", tiles_name)
      .add("wgmma", pd_cuda::wgmma_status())
      .add("ms_median", med)
      .add("tflops", gemm_tflops(M, N, K, med))
      .add("tflops_best", gemm_tflops(M, N, K, *std::min_element(ms_each.begin(), ms_each.end())))
      .add("spot_rel_rms_err", rel_rms)
      .add("spot_ok", rel_rms < 1e-2)  // BF16 output rounding is ~4e-3 relative
      .print();
  return rel_rms < 1e-2 ? 0 : 1;
}

int argmax(const std::vector<float>& v) {
  return (int)(std::max_element(v.begin(), v.end()) - v.begin());
}

int run_model(const Flags& flags) {
  pd_gpu::DeviceProps dev;
  paddock::GpuBackend* backend = require_backend("bench_cuda_infer", &dev);
  const std::string shape = flags.str("--shape", "tinyllama-1.1b"), type = flags.str("--type", "f16");
  const int64_t ctx = flags.num("--ctx", 1024), P = flags.num("--prefill", 512), D = flags.num("--decode", 128);
  const int64_t chunk = std::max(1LL, flags.num("--chunk", 512));
  const int reps = (int)std::max(1LL, flags.num("--reps", 3));
  if (P < 1 || D < 1 || ctx < P + D) {
    note("need --prefill >= 1, --decode >= 1 and --ctx >= prefill + decode (%lld + %lld > %lld)", (long long)P,
         (long long)D, (long long)ctx);
    return 2;
  }
  std::shared_ptr<paddock::Model> model;
  paddock::Status st = load_synthetic(shape, type, &model);
  if (!st.ok()) return fail("loading the synthetic model", st);
  const paddock::LlamaConfig& c = model->config;

  paddock::GpuOffload off;
  off.n_ctx = ctx;
  off.max_chunk = chunk;
  std::unique_ptr<paddock::GpuForward> fwd;
  // The forward reads PADDOCK_CUDA_GRAPHS when it is created.
  auto load = [&](bool graphs) -> paddock::Status {
    fwd.reset();
    setenv("PADDOCK_CUDA_GRAPHS", graphs ? "1" : "0", 1);
    const double t_load = bench::now_s();
    PD_TRY(backend->load_forward(model, off, &fwd));
    note("uploaded in %.1f s, %.2f GiB on the device (graphs %s)", bench::now_s() - t_load,
         fwd->device_bytes() / 1073741824.0, graphs ? "on" : "off");
    return paddock::Status();
  };
  st = load(true);
  if (!st.ok()) return fail("load_forward", st);

  std::vector<int32_t> tokens((size_t)P);
  uint64_t seed = 7;
  for (int32_t& t : tokens) t = 3 + (int32_t)(next_random(&seed) % (uint64_t)(c.vocab_size - 3));
  std::vector<float> logits((size_t)c.vocab_size);
  auto prefill = [&]() -> paddock::Status {
    for (int64_t p = 0; p < P; p += chunk) {
      const int64_t n = std::min(chunk, P - p);
      PD_TRY(fwd->forward(tokens.data() + p, nullptr, n, p, p + n == P, logits.data()));
    }
    return paddock::Status();
  };

  std::vector<double> prefill_s;
  for (int r = 0; r < reps + 1; r++) {  // the first is warm-up
    const double t0 = bench::now_s();
    st = prefill();
    if (!st.ok()) return fail("prefill", st);
    if (r > 0) prefill_s.push_back(bench::now_s() - t0);
  }
  const double pre_med = median(prefill_s);
  JsonLine("prefill")
      .add("device", dev.name)
      .add("impl", "paddock")
      .add("shape", shape)
      .add("type", type)
      .add("tokens", (long long)P)
      .add("chunk", (long long)chunk)
      .add("seconds_median", pre_med)
      .add("tok_s", (double)P / pre_med)
      .add("tflops", 2.0 * (double)matmul_params(c) * (double)P / pre_med / 1e12)
      .print();

  const std::vector<double> gbps = measure_d2d_gbps((size_t)1 << 30, 10);
  if (gbps.empty()) return 1;
  const double bw = median(gbps) * 1e9;  // bytes/s
  const double weight_bytes = (double)decode_weight_bytes(*model);
  // K and V rows of the positions a step attends over, F16, at the middle of the decode run.
  const double kv_bytes = 2.0 * 2.0 * (double)c.n_layers * (double)c.kv_dim() * (double)(P + D / 2);
  const double limit_tok_s = bw / weight_bytes;

  for (bool graphs : {true, false}) {
    if (!graphs) {
      st = load(false);
      if (!st.ok()) return fail("load_forward", st);
    }
    // Decode: one warm-up run, then the measured one (both start right after a prefill).
    std::vector<double> step_s;
    double total_s = 0, kernels_per_token = 0, graphs_per_token = 0;
    for (int run = 0; run < 2; run++) {
      st = prefill();
      if (!st.ok()) return fail("prefill", st);
      int32_t tok = argmax(logits);
      step_s.clear();
      const uint64_t launches0 = pd_gpu::host_launch_count(), graphs0 = pd_gpu::graph_launch_count();
      const double t_run = bench::now_s();
      for (int64_t i = 0; i < D; i++) {
        const double t0 = bench::now_s();
        st = fwd->forward(&tok, nullptr, 1, P + i, true, logits.data());
        if (!st.ok()) return fail("decode", st);
        step_s.push_back(bench::now_s() - t0);
        tok = argmax(logits);
      }
      total_s = bench::now_s() - t_run;
      kernels_per_token = (double)(pd_gpu::host_launch_count() - launches0) / (double)D;
      graphs_per_token = (double)(pd_gpu::graph_launch_count() - graphs0) / (double)D;
    }
    const double step_med = median(step_s);
    JsonLine("decode")
        .add("device", dev.name)
        .add("impl", "paddock")
        .add("shape", shape)
        .add("type", type)
        .add("graphs", graphs)
        .add("host_kernel_launches_per_token", kernels_per_token)
        .add("graph_launches_per_token", graphs_per_token)
        .add("tokens", (long long)D)
        .add("after_prefill", (long long)P)
        .add("ms_per_token_median", step_med * 1e3)
        .add("tok_s", (double)D / total_s)
        .add("tok_s_median", 1.0 / step_med)
        .add("weight_bytes_per_token", weight_bytes)
        .add("kv_bytes_per_token", kv_bytes)
        .add("d2d_gbps", bw / 1e9)
        .add("bandwidth_limit_tok_s", limit_tok_s)
        .add("share_of_limit", (1.0 / step_med) / limit_tok_s)
        .print();
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const benchcuda::Flags flags(argc, argv);
  return flags.has("--gemm") ? run_gemm(flags) : run_model(flags);
}
