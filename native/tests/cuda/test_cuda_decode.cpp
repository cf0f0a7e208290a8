// The fused decode kernels of the CUDA forward against independent references, for every weight
// type, with ragged shapes and guard bands around every output:
//   - quant_matvec_multi (quant_ops.h): 3 matrices of one X in one launch (rows 5 + 3 + 7: the
//     4-row blocks straddle the matrices), with the fused RMSNorm, one output accumulating, T = 1
//     and 3; mixed types (one launch per type); against a double-precision product of the CPU's
//     dequantized rows and the CPU's rmsnorm of X;
//   - quant_matvec_swiglu: silu(gate x') * (up x') for 7 rows (a ragged last pair);
//   - rope_store_kv (decode_fused.h): RoPE of q and k and the F16 cache store against the CPU's
//     rope_apply and fp32_to_fp16, the position read on the device, other cache rows untouched;
//   - attention_kv_decode (attention.h) captured ONCE as a graph on a stream and replayed at
//     several positions (changed in device memory only) against attention_kv at each position:
//     a frozen-argument bug (split count, position) fails here.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "backend/cpu/ops.h"
#include "backend/cuda/attention.h"
#include "backend/cuda/decode_fused.h"
#include "backend/cuda/quant_ops.h"
#include "core/fp16.h"
#include "core/tensor.h"
#include "cuda_testing.h"
#if defined(PADDOCK_CUDA_EMU)
#include "backend/cuda/emu/emulator.h"
#endif

using paddock::DType;

namespace {

std::vector<float> random_vector(std::mt19937& rng, size_t n, float lo, float hi) {
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

// A quantized [rows][cols] matrix: its GGUF bytes on the device and the CPU's dequantization.
struct Matrix {
  DType type;
  int64_t rows, cols;
  std::vector<float> dequantized;
  cudatest::DeviceArray<uint8_t> device;
  Matrix(DType t, int64_t r, int64_t c, std::mt19937& rng)
      : type(t), rows(r), cols(c), device(pd_cuda::quant_row_bytes(t, c) * (size_t)r) {
    const size_t rb = pd_cuda::quant_row_bytes(t, c);
    std::vector<float> m = random_vector(rng, (size_t)(r * c), -1.0f, 1.0f);
    for (int64_t i = 0; i < r; i++)
      for (int64_t j = 0; j < c; j++) m[(size_t)(i * c + j)] *= 0.1f + (float)(i % 5);
    std::vector<uint8_t> bytes(rb * (size_t)r);
    for (int64_t i = 0; i < r; i++) CHECK(paddock::row_from_f32(t, &m[(size_t)(i * c)], &bytes[rb * i], c));
    const paddock::Tensor tensor = paddock::make_tensor("w", t, bytes.data(), c, r);
    dequantized.resize(m.size());
    for (int64_t i = 0; i < r; i++) paddock::get_row_f32(tensor, i, &dequantized[(size_t)(i * c)]);
    device.upload(bytes);
  }
  double dot(int64_t row, const float* x) const {
    double s = 0;
    for (int64_t k = 0; k < cols; k++) s += (double)dequantized[(size_t)(row * cols + k)] * (double)x[k];
    return s;
  }
};

// X rows normalised by the CPU's rmsnorm (the fused path's reference input).
std::vector<float> cpu_norm(const std::vector<float>& x, const std::vector<float>& w, int64_t T, int64_t cols,
                            float eps) {
  std::vector<float> out(x.size());
  for (int64_t t = 0; t < T; t++) paddock::rmsnorm(&out[(size_t)(t * cols)], &x[(size_t)(t * cols)], w.data(), cols, eps);
  return out;
}

constexpr float kEps = 1e-5f;
constexpr double kMatvecNmse = 1e-10;  // F32 sums of exactly dequantized weights vs double

void check_multi(const std::vector<DType>& types, int64_t cols, std::mt19937& rng) {
  const int64_t rows[3] = {5, 3, 7};
  std::vector<std::unique_ptr<Matrix>> m;
  for (int p = 0; p < 3; p++) m.emplace_back(new Matrix(types[(size_t)p], rows[p], cols, rng));
  const std::vector<float> norm_w = random_vector(rng, (size_t)cols, 0.5f, 1.5f);
  cudatest::DeviceArray<float> dnorm((size_t)cols);
  dnorm.upload(norm_w);
  for (int64_t T : {1, 3}) {
    for (bool fused_norm : {true, false}) {
      const std::vector<float> x = random_vector(rng, (size_t)(T * cols), -2.0f, 2.0f);
      const std::vector<float> xn = fused_norm ? cpu_norm(x, norm_w, T, cols, kEps) : x;
      cudatest::DeviceArray<float> dx(x.size());
      dx.upload(x);
      std::vector<std::unique_ptr<cudatest::DeviceArray<float>>> dy;
      std::vector<std::vector<float>> want(3);
      pd_cuda::MatvecOut outs[3];
      for (int p = 0; p < 3; p++) {
        dy.emplace_back(new cudatest::DeviceArray<float>((size_t)(T * rows[p])));
        const bool acc = p == 2;  // the third adds to what is there (wo, down into the residual)
        std::vector<float> y0 = random_vector(rng, (size_t)(T * rows[p]), -1.0f, 1.0f);
        if (acc) dy.back()->upload(y0);
        want[(size_t)p].resize(y0.size());
        for (int64_t t = 0; t < T; t++)
          for (int64_t r = 0; r < rows[p]; r++)
            want[(size_t)p][(size_t)(t * rows[p] + r)] =
                (float)(m[(size_t)p]->dot(r, &xn[(size_t)(t * cols)]) + (acc ? (double)y0[(size_t)(t * rows[p] + r)] : 0.0));
        outs[p] = {types[(size_t)p], m[(size_t)p]->device.get(), rows[p], dy.back()->get(), acc};
      }
      pd_cuda::quant_matvec_multi(outs, 3, cols, dx.get(), T, fused_norm ? dnorm.get() : nullptr, kEps, nullptr);
      CHECK(pd_gpu::check_launch("quant_matvec_multi"));
      for (int p = 0; p < 3; p++) {
        char what[128];
        std::snprintf(what, sizeof what, "multi %s/%s/%s c%lld T%lld%s part %d", paddock::dtype_name(types[0]),
                      paddock::dtype_name(types[1]), paddock::dtype_name(types[2]), (long long)cols, (long long)T,
                      fused_norm ? " norm" : "", p);
        cudatest::check_close(what, dy[(size_t)p]->download(), want[(size_t)p], kMatvecNmse);
        CHECK(dy[(size_t)p]->guards_intact());
      }
    }
  }
}

void check_swiglu(DType t, int64_t cols, std::mt19937& rng) {
  const int64_t rows = 7;
  Matrix gate(t, rows, cols, rng), up(t, rows, cols, rng);
  const std::vector<float> norm_w = random_vector(rng, (size_t)cols, 0.5f, 1.5f);
  cudatest::DeviceArray<float> dnorm((size_t)cols);
  dnorm.upload(norm_w);
  for (int64_t T : {1, 3}) {
    const std::vector<float> x = random_vector(rng, (size_t)(T * cols), -2.0f, 2.0f);
    const std::vector<float> xn = cpu_norm(x, norm_w, T, cols, kEps);
    std::vector<double> want((size_t)(T * rows));
    for (int64_t tt = 0; tt < T; tt++)
      for (int64_t r = 0; r < rows; r++) {
        const double g = gate.dot(r, &xn[(size_t)(tt * cols)]), u = up.dot(r, &xn[(size_t)(tt * cols)]);
        want[(size_t)(tt * rows + r)] = g / (1.0 + std::exp(-g)) * u;
      }
    cudatest::DeviceArray<float> dx(x.size()), dh(want.size());
    dx.upload(x);
    pd_cuda::quant_matvec_swiglu(t, gate.device.get(), up.device.get(), rows, cols, dx.get(), T, dnorm.get(), kEps,
                                 dh.get(), nullptr);
    CHECK(pd_gpu::check_launch("quant_matvec_swiglu"));
    char what[96];
    std::snprintf(what, sizeof what, "swiglu %s c%lld T%lld", paddock::dtype_name(t), (long long)cols, (long long)T);
    cudatest::check_close(what, dh.download(), want, kMatvecNmse);
    CHECK(dh.guards_intact());
  }
}

void check_rope_store_kv(int head_dim, std::mt19937& rng) {
  const int64_t T = 3, n_ctx = 12, pos0 = 5;
  const int n_heads = 4, n_kv = 2, kvd = n_kv * head_dim;
  std::vector<float> q = random_vector(rng, (size_t)(T * n_heads * head_dim), -2.0f, 2.0f);
  const std::vector<float> k = random_vector(rng, (size_t)(T * kvd), -2.0f, 2.0f);
  const std::vector<float> v = random_vector(rng, (size_t)(T * kvd), -2.0f, 2.0f);
  std::vector<float> rope((size_t)(T * head_dim));
  for (int64_t t = 0; t < T; t++)
    paddock::rope_angles(pos0 + t, head_dim, 10000.0f, nullptr, 1.0f, &rope[(size_t)(t * head_dim)],
                         &rope[(size_t)(t * head_dim + head_dim / 2)]);
  cudatest::DeviceArray<float> dq(q.size()), dk(k.size()), dv(v.size()), drope(rope.size());
  cudatest::DeviceArray<int32_t> dpos(1);
  cudatest::DeviceArray<uint16_t> kc((size_t)(n_ctx * kvd)), vc((size_t)(n_ctx * kvd));
  dq.upload(q), dk.upload(k), dv.upload(v), drope.upload(rope), dpos.upload({(int32_t)pos0});
  const std::vector<uint16_t> sentinel((size_t)(n_ctx * kvd), 0x5555);
  kc.upload(sentinel), vc.upload(sentinel);
  pd_cuda::rope_store_kv(dq.get(), dk.get(), dv.get(), T, n_heads, n_kv, head_dim, drope.get(), dpos.get(),
                         (pd_half*)kc.get(), (pd_half*)vc.get(), nullptr);
  CHECK(pd_gpu::check_launch("rope_store_kv"));
  std::vector<float> kr = k, want_k, got_k, want_v, got_v;
  for (int64_t t = 0; t < T; t++) {
    const float* r = &rope[(size_t)(t * head_dim)];
    paddock::rope_apply(&q[(size_t)(t * n_heads * head_dim)], n_heads, head_dim, r, r + head_dim / 2);
    paddock::rope_apply(&kr[(size_t)(t * kvd)], n_kv, head_dim, r, r + head_dim / 2);
  }
  const std::vector<uint16_t> gk = kc.download(), gv = vc.download();
  size_t untouched_bad = 0;
  for (int64_t p = 0; p < n_ctx; p++)
    for (int i = 0; i < kvd; i++) {
      const size_t at = (size_t)(p * kvd + i);
      if (p < pos0 || p >= pos0 + T) {
        untouched_bad += gk[at] != 0x5555 || gv[at] != 0x5555;
        continue;
      }
      const size_t src = (size_t)((p - pos0) * kvd + i);
      want_k.push_back(paddock::fp16_to_fp32(paddock::fp32_to_fp16(kr[src])));
      got_k.push_back(paddock::fp16_to_fp32(gk[at]));
      want_v.push_back(paddock::fp16_to_fp32(paddock::fp32_to_fp16(v[src])));
      got_v.push_back(paddock::fp16_to_fp32(gv[at]));
    }
  char what[64];
  std::snprintf(what, sizeof what, "rope_store_kv hd%d q", head_dim);
  cudatest::check_close(what, dq.download(), q, 1e-12);
  std::snprintf(what, sizeof what, "rope_store_kv hd%d k cache", head_dim);
  cudatest::check_close(what, got_k, want_k, 1e-6);  // a contracted multiply-add may flip an F16 rounding
  std::snprintf(what, sizeof what, "rope_store_kv hd%d v cache (exact)", head_dim);
  cudatest::check_close(what, got_v, want_v, 0.0);
  CHECK_MSG(untouched_bad == 0, "rope_store_kv wrote %zu cache values outside its rows", untouched_bad);
  CHECK(kc.guards_intact() && vc.guards_intact() && dq.guards_intact());
}

// One captured launch of attention_kv_decode replayed at positions set in device memory only.
void check_attention_graph(std::mt19937& rng) {
  pd_cuda::AttnDims d;
  d.T = 1;
  d.n_heads = 4;
  d.n_kv_heads = 2;
  d.head_dim = 16;
  d.scale = 0.25f;
  const int64_t n_ctx = 640, kvd = d.n_kv_heads * d.head_dim, dim = d.n_heads * d.head_dim;  // 5 splits of 128
  std::vector<uint16_t> cache((size_t)(n_ctx * kvd));
  for (uint16_t& h : cache) h = paddock::fp32_to_fp16(std::uniform_real_distribution<float>(-1, 1)(rng));
  cudatest::DeviceArray<uint16_t> kc(cache.size()), vc(cache.size());
  kc.upload(cache);
  for (uint16_t& h : cache) h = paddock::fp32_to_fp16(std::uniform_real_distribution<float>(-1, 1)(rng));
  vc.upload(cache);
  cudatest::DeviceArray<float> dq((size_t)dim), out((size_t)dim), ref((size_t)dim);
  cudatest::DeviceArray<int32_t> dpos(1);
  cudatest::DeviceArray<uint8_t> scratch(pd_cuda::attention_kv_decode_scratch_bytes(d, n_ctx));
  CHECK(pd_cuda::attention_kv_decode_scratch_bytes(d, n_ctx) > 0);  // the split path is what is tested
  pd_stream_t s = nullptr;
  CHECK(pd_gpu::stream_create(&s));
  pd_gpu::pd_graph_t graph = nullptr;
  CHECK(pd_gpu::graph_begin_capture(s));
  pd_cuda::attention_kv_decode(d, dq.get(), (const pd_half*)kc.get(), (const pd_half*)vc.get(), dpos.get(), n_ctx,
                               scratch.get(), out.get(), s);
  CHECK(pd_gpu::graph_end_capture(s, &graph) && graph);
  for (int64_t pos : {0, 37, 130, 383, 639}) {
    dq.upload(random_vector(rng, (size_t)dim, -2.0f, 2.0f));
    dpos.upload({(int32_t)pos});
    CHECK(pd_gpu::synchronize());  // the uploads ran on the legacy stream, the graph runs on s
    const uint64_t graphs_before = pd_gpu::graph_launch_count();
    CHECK(pd_gpu::graph_launch(graph, s) && pd_gpu::synchronize(s));
    CHECK(pd_gpu::graph_launch_count() == graphs_before + 1);
    pd_cuda::attention_kv(d, dq.get(), (const pd_half*)kc.get(), (const pd_half*)vc.get(), pos, ref.get(), nullptr);
    CHECK(pd_gpu::check_launch("attention") && pd_gpu::synchronize());
    char what[80];
    std::snprintf(what, sizeof what, "attention_kv_decode graph replay at pos %lld", (long long)pos);
    cudatest::check_close(what, out.download(), ref.download(), 1e-12);
  }
  CHECK(out.guards_intact());
  pd_gpu::graph_destroy(graph);
  pd_gpu::stream_destroy(s);
}

}  // namespace

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  cudatest::require_device("test_cuda_decode");
  const auto start = std::chrono::steady_clock::now();
  std::mt19937 rng(77);
  for (DType t : {DType::F32, DType::F16, DType::BF16}) {
    check_multi({t, t, t}, 96, rng);
    check_multi({t, t, t}, 93, rng);  // scalar path (rows not 16-byte aligned)
    check_swiglu(t, 93, rng);
  }
  for (DType t : {DType::Q8_0, DType::Q4_0, DType::Q4_1}) {
    check_multi({t, t, t}, 96, rng);
    check_swiglu(t, 96, rng);
  }
  for (DType t : {DType::Q4_K, DType::Q5_K, DType::Q6_K}) {
    check_multi({t, t, t}, 512, rng);
    check_swiglu(t, 512, rng);
  }
  check_multi({DType::Q4_K, DType::Q4_K, DType::Q6_K}, 512, rng);  // Q4_K_M's q/k/v: two launches
  check_multi({DType::Q8_0, DType::F16, DType::Q8_0}, 256, rng);
  check_rope_store_kv(8, rng);
  check_rope_store_kv(64, rng);
  check_attention_graph(rng);
  std::printf("  (%.1f s)\n", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return pdtest::finish("test_cuda_decode");
}
