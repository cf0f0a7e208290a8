// Shared by the GPU benchmarks (bench_cuda_*.cpp): the device check (a clear "no GPU: why" and
// exit 77 where there is none), command-line flags, JSON-line output, synthetic models of the
// DESIGN.md shapes written under /tmp on first use (the GPU machine has no test data), weight
// byte counts for the decode roofline, the training FLOP formula and the card's peak for MFU.
// Every measurement is one JSON object per line on stdout, so the lease script's summary and a
// human read the same output; progress and notes go to stderr.
#pragma once

#include <sys/stat.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "backend/cuda/gpu_runtime.h"
#include "backend/cuda/probe.h"
#include "backend/gpu/gpu_backend.h"
#include "bench_timing.h"
#include "io/model_loader.h"
#include "io/synthetic_gguf.h"
#include "model/lora.h"

// The CUDA module's entry point, linked statically into the benches (cuda_backend.cpp).
extern "C" paddock::GpuBackend* paddock_cuda_backend_v1();

namespace benchcuda {

constexpr int kSkip = 77;  // "no GPU": the same code ctest reads as skipped

// --name value flags; anything else is an error naming the flag.
class Flags {
 public:
  Flags(int argc, char** argv) : argv_(argv + 1, argv + argc) {}
  bool has(const char* name) const { return find(name) >= 0; }
  std::string str(const char* name, const std::string& dflt) const {
    const int i = find(name);
    return i >= 0 && i + 1 < (int)argv_.size() ? argv_[i + 1] : dflt;
  }
  long long num(const char* name, long long dflt) const {
    const int i = find(name);
    return i >= 0 && i + 1 < (int)argv_.size() ? std::atoll(argv_[i + 1].c_str()) : dflt;
  }
  double real(const char* name, double dflt) const {
    const int i = find(name);
    return i >= 0 && i + 1 < (int)argv_.size() ? std::atof(argv_[i + 1].c_str()) : dflt;
  }
  // The i-th value after a flag (--gemm M N K).
  long long nth(const char* name, int k, long long dflt) const {
    const int i = find(name);
    return i >= 0 && i + k < (int)argv_.size() ? std::atoll(argv_[i + k].c_str()) : dflt;
  }

 private:
  std::vector<std::string> argv_;
  int find(const char* name) const {
    for (size_t i = 0; i < argv_.size(); i++)
      if (argv_[i] == name) return (int)i;
    return -1;
  }
};

// One JSON object per line: fields appended in order, strings escaped minimally (our own names).
class JsonLine {
 public:
  explicit JsonLine(const char* bench) { add("bench", bench); }
  JsonLine& add(const char* k, const std::string& v) {
    std::string esc;
    for (char c : v) esc += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
    return raw(k, "\"" + esc + "\"");
  }
  JsonLine& add(const char* k, const char* v) { return add(k, std::string(v)); }
  JsonLine& add(const char* k, double v) {
    char b[64];
    std::snprintf(b, sizeof b, "%.6g", v);
    return raw(k, b);
  }
  JsonLine& add(const char* k, long long v) { return raw(k, std::to_string(v)); }
  JsonLine& add(const char* k, int v) { return raw(k, std::to_string(v)); }
  JsonLine& add(const char* k, bool v) { return raw(k, v ? "true" : "false"); }
  void print() const {
    std::printf("{%s}\n", body_.c_str());
    std::fflush(stdout);
  }

 private:
  std::string body_;
  JsonLine& raw(const char* k, const std::string& v) {
    if (!body_.empty()) body_ += ", ";
    body_ += std::string("\"") + k + "\": " + v;
    return *this;
  }
};

inline void note(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stderr, fmt, ap);
  va_end(ap);
  std::fputc('\n', stderr);
}

inline int fail(const char* what, const paddock::Status& st) {
  note("%s: %s", what, st.to_string().c_str());
  return 1;
}

// The device the benches use, or exit 77 with the reason (no driver, no device, too old).
inline pd_gpu::DeviceProps require_gpu(const char* bench) {
  std::string why;
  if (pd_gpu::device_count(&why) == 0) {
    std::printf("%s: no GPU: %s\n", bench, why.c_str());
    std::exit(kSkip);
  }
  pd_gpu::DeviceProps p;
  if (!pd_gpu::device_props(0, &p, &why) || !pd_gpu::set_device(0, &why)) {
    std::printf("%s: no GPU: %s\n", bench, why.c_str());
    std::exit(kSkip);
  }
  if (p.emulated) {  // benches link the real module only; an emulated device means a wrong build
    std::printf("%s: no GPU: the emulator is not benchmarked\n", bench);
    std::exit(kSkip);
  }
  // The probe, as before a device is offered in the app: it also decides whether gemm() uses wgmma.
  if (!pd_cuda::probe_device(&why)) {
    std::printf("%s: the device probe failed: %s\n", bench, why.c_str());
    std::exit(1);
  }
  note("%s: on %s (cc %d.%d, %d SMs, %.1f GiB; wgmma %s)", bench, p.name.c_str(), p.cc_major, p.cc_minor, p.sm_count,
       p.total_bytes / 1073741824.0, pd_cuda::wgmma_status().c_str());
  return p;
}

// The loaded CUDA backend with at least one usable device (its probe ran), or exit 77.
inline paddock::GpuBackend* require_backend(const char* bench, pd_gpu::DeviceProps* dev) {
  *dev = require_gpu(bench);
  paddock::GpuBackend* b = paddock_cuda_backend_v1();
  std::string why;
  if (b->devices(&why).empty()) {
    std::printf("%s: no GPU: %s\n", bench, why.c_str());
    std::exit(kSkip);
  }
  return b;
}

// Dense BF16 tensor-core peak (TFLOP/s) of known cards, for MFU; --peak-tflops overrides, and an
// unknown card gives 0 (MFU then reported as 0 with a note). Numbers: NVIDIA datasheets.
inline double bf16_peak_tflops(const std::string& device_name, double override_tflops) {
  if (override_tflops > 0) return override_tflops;
  auto has = [&](const char* s) { return device_name.find(s) != std::string::npos; };
  if (has("H100") || has("H200") || has("H800") || has("GH200")) return has("PCIe") ? 756.0 : 989.0;
  if (has("A100") || has("A800")) return 312.0;
  if (has("L40S")) return 362.0;
  if (has("A10G")) return 70.0;
  if (has("RTX 4090")) return 165.0;
  note("unknown card '%s': pass --peak-tflops for MFU", device_name.c_str());
  return 0.0;
}

inline double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Device-to-device copy bandwidth in GB/s (bytes read + written), one value per copy of `bytes`
// timed with device events after a warm-up copy; empty with a note on error.
inline std::vector<double> measure_d2d_gbps(size_t bytes, int reps) {
  std::vector<double> gbps;
  void* src = pd_gpu::device_malloc(bytes);
  void* dst = pd_gpu::device_malloc(bytes);
  // Written once so no page is untouched (first-touch costs would land in the first copy).
  bool good = src && dst && pd_gpu::memset_zero(src, bytes) && pd_gpu::copy_d2d(dst, src, bytes) && pd_gpu::synchronize();
  for (int i = 0; good && i < reps; i++) {
    pd_gpu::Timer t;
    double ms = 0;
    good = pd_gpu::timer_start(&t) && pd_gpu::copy_d2d(dst, src, bytes) && pd_gpu::timer_stop_ms(&t, &ms);
    if (good) gbps.push_back(2.0 * (double)bytes / (ms * 1e-3) / 1e9);
  }
  if (!good) {
    note("device-to-device copy of %zu MiB: %s", bytes >> 20, pd_gpu::last_error().c_str());
    gbps.clear();
  }
  pd_gpu::device_free(src);
  pd_gpu::device_free(dst);
  return gbps;
}

// --type names of the benches -> the synthetic file type (q4_k: llama.cpp's Q4_K_M mix).
inline bool synth_type_from_flag(const std::string& t, paddock::SynthType* out, std::string* file_tag) {
  if (t == "f16") *out = paddock::SynthType::F16, *file_tag = "f16";
  else if (t == "bf16") *out = paddock::SynthType::BF16, *file_tag = "bf16";
  else if (t == "q4_k" || t == "q4_k_m") *out = paddock::SynthType::Q4_K_M, *file_tag = "q4_k_m";
  else if (t == "q8_0") *out = paddock::SynthType::Q8_0, *file_tag = "q8_0";
  else if (t == "f32") *out = paddock::SynthType::F32, *file_tag = "f32";
  else return false;
  return true;
}

// Loads the synthetic model `shape`/`type`, writing it first to
// $PADDOCK_BENCH_DIR (default /tmp/paddock-bench)/<shape>-<type>.gguf when absent: a 7B F16
// file is 13.5 GB and takes minutes, so later runs on the same machine reuse it.
inline paddock::Status load_synthetic(const std::string& shape_name, const std::string& type_flag,
                                      std::shared_ptr<paddock::Model>* out) {
  paddock::SynthShape shape;
  PD_TRY(paddock::synth_shape_by_name(shape_name, &shape));
  paddock::SynthType type;
  std::string tag;
  if (!synth_type_from_flag(type_flag, &type, &tag))
    return PD_ERROR(InvalidArgument, "--type %s: expected f16, bf16, q4_k, q8_0 or f32", type_flag.c_str());
  const char* env = std::getenv("PADDOCK_BENCH_DIR");
  const std::string dir = env && *env ? env : "/tmp/paddock-bench";
  ::mkdir(dir.c_str(), 0755);
  const std::string path = dir + "/" + shape_name + "-" + tag + ".gguf";
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    note("writing %s (random weights, seed 1)...", path.c_str());
    const double t0 = bench::now_s();
    PD_TRY(paddock::write_synthetic_gguf(path, shape, type, /*seed=*/1));
    note("  written in %.1f s", bench::now_s() - t0);
  }
  return paddock::load_model(path, paddock::LoadOptions(), out);
}

// The matrices a forward multiplies by per token: per layer q, k, v, o, gate, up, down, and the
// classifier (token_embd when tied). Norms and the one embedding row looked up are left out of
// FLOP counts; byte counts add the norms (read every step too).
inline int64_t matmul_params(const paddock::LlamaConfig& c) {
  const int64_t per_layer = 2 * c.dim * c.dim + 2 * c.dim * c.kv_dim() + 3 * c.dim * c.hidden_dim;
  return c.n_layers * per_layer + c.dim * c.vocab_size;
}

// Weight bytes one decode step reads from device memory: every offloaded layer's tensors in
// their stored types, the final norm and the classifier (the embedding row is ~dim bytes).
inline uint64_t decode_weight_bytes(const paddock::Model& m) {
  uint64_t b = 0;
  for (const paddock::LlamaLayer& l : m.weights.layers)
    for (const paddock::Tensor* t : {&l.attn_norm, &l.wq, &l.wk, &l.wv, &l.wo, &l.ffn_norm, &l.w_gate, &l.w_down, &l.w_up})
      b += t->nbytes;
  return b + m.weights.output_norm.nbytes + m.weights.classifier().nbytes;
}

// Training FLOPs per token of a row of T tokens (model FLOPs: recomputation is not counted).
//   full fine-tuning:     6 * N_matmul                   (forward 2N, input grads 2N, weight grads 2N)
//   LoRA (frozen base):   4 * N_matmul + 6 * N_lora      (no weight-grad products for the base)
//   attention, causal:    + 6 * L * dim * T              (QK^T and PV: 2 products * 2 flops * dim * T/2
//                                                         average keys, times 3 for forward + backward)
// The HF peer (test/bench/peers/hf_peft_train.py) uses the same formula.
inline double train_flops_per_token(const paddock::LlamaConfig& c, int64_t n_lora, int64_t T, bool lora) {
  const double n = (double)matmul_params(c);
  const double dense = lora ? 4.0 * n + 6.0 * (double)n_lora : 6.0 * n;
  return dense + 6.0 * (double)c.n_layers * (double)c.dim * (double)T;
}

}  // namespace benchcuda
