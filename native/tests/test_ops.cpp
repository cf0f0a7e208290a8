// CPU kernels against plain double-precision references: dot products (F32/F16/BF16, every
// tail length), the selected SIMD table against the baseline, F16 conversion (all 65536 halves),
// threaded matmul equal to single-threaded and to one token at a time (F32/F16/BF16, with and
// without several panels and token tiles), matmul_group equal to separate matmuls, rmsnorm,
// softmax, silu, RoPE, thread-pool reuse.
#include <cstring>
#include <random>
#include <vector>

#include "backend/cpu/kernels.h"
#include "backend/cpu/ops.h"
#include "backend/cpu/threadpool.h"
#include "core/dtype.h"
#include "testing.h"

using namespace paddock;

static double rel_err(double got, double want, double scale) { return std::fabs(got - want) / (scale + 1e-30); }

static void test_fp16_conversion() {
  int bad = 0;
  for (uint32_t h = 0; h < 65536; h++) {
    const float f = fp16_to_fp32((uint16_t)h);
    if (std::isnan(f)) continue;
    if (fp32_to_fp16(f) != h) bad++;
  }
  CHECK_MSG(bad == 0, "%d halves do not round-trip", bad);
  // round to nearest even at a tie: 1 + 2^-11 is halfway between 1 and 1 + 2^-10
  CHECK(fp32_to_fp16(1.0f + 1.0f / 2048.0f) == 0x3c00);
  CHECK(fp32_to_fp16(1.0f + 3.0f / 2048.0f) == 0x3c02);
  CHECK(fp32_to_fp16(65520.0f) == 0x7c00);
  CHECK(fp32_to_fp16(65519.0f) == 0x7bff);
  CHECK(fp32_to_fp16(5.96046448e-08f) == 0x0001);  // smallest subnormal
  CHECK(bf16_to_fp32(fp32_to_bf16(1.5f)) == 1.5f);
  // random floats: conversion within half an ulp
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-70000.0f, 70000.0f);
  int far = 0;
  for (int i = 0; i < 100000; i++) {
    float x = u(rng) * (i % 3 == 0 ? 1e-4f : 1.0f);
    float y = fp16_to_fp32(fp32_to_fp16(x));
    if (std::fabs(x) < 65504.0f && std::fabs(y - x) > std::fabs(x) * (1.0f / 2048.0f) + 6e-8f) far++;
  }
  CHECK_MSG(far == 0, "%d conversions off by more than half an ulp", far);
}

static void test_dots(const CpuKernels& k) {
  std::mt19937 rng(42);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (int n : {1, 3, 7, 8, 9, 15, 16, 31, 32, 33, 63, 64, 65, 100, 172, 255, 256, 1000, 4099}) {
    std::vector<float> w((size_t)n), x((size_t)n);
    std::vector<uint16_t> wh((size_t)n), wb((size_t)n);
    for (int i = 0; i < n; i++) {
      w[i] = nd(rng);
      x[i] = nd(rng);
      wh[i] = fp32_to_fp16(w[i]);
      wb[i] = fp32_to_bf16(w[i]);
    }
    double ref = 0, ref_h = 0, ref_b = 0, scale = 0;
    for (int i = 0; i < n; i++) {
      ref += (double)w[i] * x[i];
      ref_h += (double)fp16_to_fp32(wh[i]) * x[i];
      ref_b += (double)bf16_to_fp32(wb[i]) * x[i];
      scale += std::fabs((double)w[i] * x[i]);
    }
    CHECK_MSG(rel_err(k.dot_f32(w.data(), x.data(), n), ref, scale) < 1e-5, "%s dot_f32 n=%d", k.isa, n);
    CHECK_MSG(rel_err(k.dot_f16(wh.data(), x.data(), n), ref_h, scale) < 1e-5, "%s dot_f16 n=%d", k.isa, n);
    CHECK_MSG(rel_err(k.dot_bf16(wb.data(), x.data(), n), ref_b, scale) < 1e-5, "%s dot_bf16 n=%d", k.isa, n);
    // dot_f16 == convert + dot_f32, bit for bit (matmul relies on it)
    std::vector<float> conv((size_t)n);
    k.f16_to_f32(wh.data(), conv.data(), n);
    const float a = k.dot_f16(wh.data(), x.data(), n), b = k.dot_f32(conv.data(), x.data(), n);
    CHECK_MSG(std::memcmp(&a, &b, 4) == 0, "%s dot_f16 != f16_to_f32 + dot_f32 at n=%d", k.isa, n);
    std::vector<float> y(x), y_ref(x);
    k.axpy(0.37f, w.data(), y.data(), n);
    for (int i = 0; i < n; i++) y_ref[i] += 0.37f * w[i];
    double max_d = 0;
    for (int i = 0; i < n; i++) max_d = std::max(max_d, (double)std::fabs(y[i] - y_ref[i]));
    CHECK_MSG(max_d < 1e-5, "%s axpy n=%d max diff %g", k.isa, n, max_d);
  }
}

// Softmax of a table (polynomial exp in AVX2) against double precision, including values far
// below the maximum (underflow) and attention-like lengths; attention kernels vs plain loops.
static void test_softmax_attention(const CpuKernels& k) {
  std::mt19937 rng(9);
  std::normal_distribution<float> nd(0.0f, 6.0f);
  for (int n : {1, 2, 7, 8, 9, 31, 100, 513, 2000}) {
    std::vector<float> x((size_t)n);
    for (float& v : x) v = nd(rng);
    if (n > 3) x[2] = -200.0f;
    std::vector<float> y(x);
    k.softmax(y.data(), n);
    double mx = -1e300, z = 0, worst = 0;
    for (float v : x) mx = std::max(mx, (double)v);
    for (float v : x) z += std::exp((double)v - mx);
    for (int i = 0; i < n; i++) {
      const double ref = std::exp((double)x[i] - mx) / z;
      worst = std::max(worst, std::fabs(y[i] - ref) / (ref + 1e-12));
    }
    CHECK_MSG(worst < 2e-5, "%s softmax n=%d: worst rel err %g", k.isa, n, worst);
  }
  for (int hd : {4, 8, 16, 64, 128}) {
    const int n = 37, stride = hd * 3;
    std::vector<float> q((size_t)hd), kv((size_t)n * stride), w((size_t)n), sc((size_t)n), out((size_t)hd);
    for (float& v : q) v = nd(rng);
    for (float& v : kv) v = nd(rng);
    for (float& v : w) v = std::fabs(nd(rng));
    k.attn_scores(q.data(), kv.data(), stride, n, hd, 0.125f, sc.data());
    k.attn_values(w.data(), kv.data(), stride, n, hd, out.data());
    double worst = 0;
    for (int p = 0; p < n; p++) {
      double ref = 0, scale = 0;
      for (int i = 0; i < hd; i++) ref += (double)q[i] * kv[(size_t)p * stride + i], scale += std::fabs((double)q[i] * kv[(size_t)p * stride + i]);
      worst = std::max(worst, rel_err(sc[p], ref * 0.125, scale * 0.125));
    }
    for (int i = 0; i < hd; i++) {
      double ref = 0, scale = 0;
      for (int p = 0; p < n; p++) ref += (double)w[p] * kv[(size_t)p * stride + i], scale += std::fabs((double)w[p] * kv[(size_t)p * stride + i]);
      worst = std::max(worst, rel_err(out[i], ref, scale));
    }
    CHECK_MSG(worst < 1e-5, "%s attention kernels hd=%d: %g", k.isa, hd, worst);
  }
}

static void test_simd_vs_scalar() {
  const CpuKernels* avx2 = cpu_kernels_avx2();
  std::printf("selected kernels: %s (AVX2+FMA+F16C %s)\n", cpu_kernels().isa, avx2 ? "available" : "not available");
  test_dots(cpu_kernels_scalar());
  test_softmax_attention(cpu_kernels_scalar());
  if (!avx2) return;
  test_dots(*avx2);
  test_softmax_attention(*avx2);
  std::mt19937 rng(3);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (int n : {5, 64, 172, 4096}) {
    std::vector<float> w((size_t)n), x((size_t)n);
    std::vector<uint16_t> wh((size_t)n);
    for (int i = 0; i < n; i++) w[i] = nd(rng), x[i] = nd(rng), wh[i] = fp32_to_fp16(w[i]);
    const float s = cpu_kernels_scalar().dot_f32(w.data(), x.data(), n), v = avx2->dot_f32(w.data(), x.data(), n);
    CHECK_MSG(std::fabs(s - v) <= 1e-4f * (1.0f + std::fabs(s)), "avx2 vs scalar dot_f32 n=%d: %g vs %g", n, v, s);
    std::vector<float> a((size_t)n), b((size_t)n);
    cpu_kernels_scalar().f16_to_f32(wh.data(), a.data(), n);
    avx2->f16_to_f32(wh.data(), b.data(), n);
    CHECK_MSG(a == b, "avx2 F16C conversion differs from the scalar one at n=%d", n);
  }
}

// Shapes: one panel and one token tile per thread; then rows so long that every thread's share
// spans several panels and the tokens several tiles (matmul.cpp's blocking).
static void test_matmul_threads(int n_in, int n_out, int T) {
  std::mt19937 rng(11);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> w((size_t)n_in * n_out), x((size_t)n_in * T);
  std::vector<uint16_t> wh(w.size()), wb(w.size());
  for (size_t i = 0; i < w.size(); i++) w[i] = nd(rng), wh[i] = fp32_to_fp16(w[i]), wb[i] = fp32_to_bf16(w[i]);
  for (float& v : x) v = nd(rng);
  ThreadPool pool4(4), pool1(1);
  for (DType type : {DType::F32, DType::F16, DType::BF16}) {
    const void* data = type == DType::F32 ? (const void*)w.data() : type == DType::F16 ? (const void*)wh.data()
                                                                                       : (const void*)wb.data();
    Tensor W = make_tensor("w", type, data, n_in, n_out);
    std::vector<float> y1((size_t)n_out * T), y4(y1.size()), yt((size_t)n_out);
    matmul(&pool1, W, x.data(), T, y1.data());
    for (int rep = 0; rep < 50; rep++) matmul(&pool4, W, x.data(), T, y4.data());  // reuse the pool
    CHECK_MSG(y1 == y4, "%s matmul differs between 1 and 4 threads", dtype_name(type));
    // one token at a time equals the batch (decode vs prefill)
    bool same = true;
    for (int t = 0; t < T; t++) {
      matmul(&pool4, W, x.data() + (size_t)t * n_in, 1, yt.data());
      same = same && std::memcmp(yt.data(), y1.data() + (size_t)t * n_out, (size_t)n_out * 4) == 0;
    }
    CHECK_MSG(same, "%s matmul of one token differs from the batched row", dtype_name(type));
    double max_rel = 0;
    for (int t = 0; t < T; t++)
      for (int r = 0; r < n_out; r++) {
        double ref = 0, scale = 0;
        for (int i = 0; i < n_in; i++) {
          const size_t j = (size_t)r * n_in + i;
          const double wv = type == DType::F32 ? w[j] : type == DType::F16 ? fp16_to_fp32(wh[j]) : bf16_to_fp32(wb[j]);
          ref += wv * x[(size_t)t * n_in + i];
          scale += std::fabs(wv * x[(size_t)t * n_in + i]);
        }
        max_rel = std::max(max_rel, rel_err(y1[(size_t)t * n_out + r], ref, scale));
      }
    CHECK_MSG(max_rel < 1e-5, "%s matmul vs double reference: %g", dtype_name(type), max_rel);
  }
  // a group over one input (Q/K/V-like) equals separate matmuls, bit for bit
  Tensor A = make_tensor("a", DType::F16, wh.data(), n_in, n_out);
  Tensor B = make_tensor("b", DType::F32, w.data(), n_in, n_out / 2);
  Tensor C = make_tensor("c", DType::BF16, wb.data(), n_in, 7);
  const Tensor* group[3] = {&A, &B, &C};
  std::vector<float> ga((size_t)n_out * T), gb(ga.size()), gc(ga.size()), sa(ga.size()), sb(ga.size()), sc(ga.size());
  float* outs[3] = {ga.data(), gb.data(), gc.data()};
  matmul_group(&pool4, group, outs, 3, x.data(), T);
  matmul(&pool1, A, x.data(), T, sa.data());
  matmul(&pool1, B, x.data(), T, sb.data());
  matmul(&pool1, C, x.data(), T, sc.data());
  CHECK_MSG(ga == sa && gb == sb && gc == sc, "matmul_group differs from separate matmuls (%d x %d)", n_in, n_out);
}

static void test_pool_reuse() {
  ThreadPool pool4(4);
  // many tiny jobs back to back: the pool must neither deadlock nor lose work
  std::vector<int> hits(4, 0);
  for (int rep = 0; rep < 3000; rep++) pool4.run([&](int ith, int) { hits[(size_t)ith]++; });
  CHECK(hits[0] == 3000 && hits[1] == 3000 && hits[2] == 3000 && hits[3] == 3000);
}

static void test_elementwise() {
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0.0f, 2.0f);
  const int n = 77;
  std::vector<float> x((size_t)n), w((size_t)n), out((size_t)n);
  for (int i = 0; i < n; i++) x[i] = nd(rng), w[i] = nd(rng);
  rmsnorm(out.data(), x.data(), w.data(), n, 1e-5f);
  double ss = 0;
  for (float v : x) ss += (double)v * v;
  const double inv = 1.0 / std::sqrt(ss / n + 1e-5);
  double max_d = 0;
  for (int i = 0; i < n; i++) max_d = std::max(max_d, std::fabs(out[i] - w[i] * x[i] * inv) / (std::fabs(w[i] * x[i] * inv) + 1e-6));
  CHECK_MSG(max_d < 1e-5, "rmsnorm rel diff %g", max_d);

  std::vector<float> s(x);
  softmax(s.data(), n);
  double mx = -1e30, sum = 0, sum_s = 0;
  for (float v : x) mx = std::max(mx, (double)v);
  for (float v : x) sum += std::exp(v - mx);
  max_d = 0;
  for (int i = 0; i < n; i++) {
    max_d = std::max(max_d, std::fabs(s[i] - std::exp(x[i] - mx) / sum));
    sum_s += s[i];
  }
  CHECK_MSG(max_d < 1e-6 && std::fabs(sum_s - 1.0) < 1e-5, "softmax diff %g sum %g", max_d, sum_s);

  std::vector<float> g(x), u(w);
  silu_mul(g.data(), u.data(), n);
  max_d = 0;
  for (int i = 0; i < n; i++) {
    const double ref = (double)x[i] / (1.0 + std::exp(-(double)x[i])) * w[i];
    max_d = std::max(max_d, std::fabs(g[i] - ref) / (std::fabs(ref) + 1e-6));
  }
  CHECK_MSG(max_d < 1e-5, "silu_mul rel diff %g", max_d);

  // RoPE: rotation of interleaved pairs by pos * theta^(-2i/d), norm preserved
  const int hd = 8, heads = 3;
  const int64_t pos = 37;
  std::vector<float> v((size_t)hd * heads), r(v), c(hd / 2), sn(hd / 2);
  for (float& e : v) e = nd(rng);
  r = v;
  rope_angles(pos, hd, 10000.0f, nullptr, 1.0f, c.data(), sn.data());
  rope_apply(r.data(), heads, hd, c.data(), sn.data());
  max_d = 0;
  for (int h = 0; h < heads; h++)
    for (int i = 0; i < hd / 2; i++) {
      const double ang = pos * std::pow(10000.0, -2.0 * i / hd);
      const double a = v[(size_t)h * hd + 2 * i], b = v[(size_t)h * hd + 2 * i + 1];
      max_d = std::max(max_d, std::fabs(r[(size_t)h * hd + 2 * i] - (a * std::cos(ang) - b * std::sin(ang))));
      max_d = std::max(max_d, std::fabs(r[(size_t)h * hd + 2 * i + 1] - (a * std::sin(ang) + b * std::cos(ang))));
    }
  CHECK_MSG(max_d < 1e-4, "rope diff %g", max_d);
}

int main() {
  test_fp16_conversion();
  test_simd_vs_scalar();
  test_matmul_threads(300, 517, 19);
  test_matmul_threads(40000, 37, 19);  // 4-row panels; token tiles of 6, 6, 6 and 1
  test_pool_reuse();
  test_elementwise();
  return pdtest::finish("test_ops");
}
