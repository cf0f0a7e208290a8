// The pointwise device ops (backend/cuda/pointwise_ops.h) against their CPU references:
// RMSNorm forward/backward (backend/cpu/ops_grad.h), RoPE (ops.h rope_apply, ops_grad.h
// rope_backward), SwiGLU, add/scale/convert, masked cross-entropy, sum of squares and AdamW
// (train/adamw.cpp). Each op runs on a 16-byte-aligned ragged shape (vector body + scalar tail)
// and on a shape that forces the scalar path; outputs sit inside guard bands.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "backend/cpu/ops.h"
#include "backend/cpu/ops_grad.h"
#include "backend/cuda/pointwise_ops.h"
#include "cuda_testing.h"
#include "train/adamw.h"

using cudatest::check_close;
using cudatest::DeviceArray;
using pd_cuda::Elem;

namespace {

// F32 results whose only difference from the CPU is summation order, FMA contraction or a
// 1-2 ulp expf: relative errors ~1e-7, so nmse ~1e-14; 1e-11 leaves room without hiding a bug.
constexpr double kF32Bound = 1e-11;
// BF16 outputs vs the BF16 rounding of the CPU value: a 1-ulp F32 difference may flip a rounding
// (2^-8 relative) on a rare element; a wrong element or index is ~1e-2 or worse.
constexpr double kBf16Bound = 1e-5;

std::vector<float> random_floats(size_t n, uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

std::vector<float> bf16_values(const std::vector<pd_bf16>& v) {
  std::vector<float> f(v.size());
  for (size_t i = 0; i < v.size(); i++) f[i] = __bfloat162float(v[i]);
  return f;
}

std::vector<float> bf16_rounded(const std::vector<float>& v) {
  std::vector<float> f(v.size());
  for (size_t i = 0; i < v.size(); i++) f[i] = __bfloat162float(__float2bfloat16_rn(v[i]));
  return f;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// ---- RMSNorm ----
void test_rmsnorm(int64_t T, int64_t n) {
  std::printf("rmsnorm T=%ld n=%ld (%s)\n", (long)T, (long)n, n % 4 ? "scalar" : "vec4");
  const float eps = 1e-5f;
  const std::vector<float> x = random_floats(T * n, 1, -2, 2), w = random_floats(n, 2, 0.5f, 1.5f);
  const std::vector<float> dy = random_floats(T * n, 3, -1, 1), dx0 = random_floats(T * n, 4, -1, 1);
  const std::vector<float> dw0 = random_floats(n, 5, -1, 1);
  std::vector<float> out(T * n), rstd(T), dx(T * n), dx_acc = dx0, dw = dw0;
  for (int64_t t = 0; t < T; t++) {
    rstd[t] = paddock::rmsnorm_forward(&out[t * n], &x[t * n], w.data(), n, eps);
    paddock::rmsnorm_backward(&dx[t * n], &dy[t * n], &x[t * n], w.data(), rstd[t], n, false);
    paddock::rmsnorm_backward(&dx_acc[t * n], &dy[t * n], &x[t * n], w.data(), rstd[t], n, true);
  }
  paddock::rmsnorm_weight_grad(dw.data(), dy.data(), x.data(), rstd.data(), T, n, 0, n);

  DeviceArray<float> d_x(T * n), d_w(n), d_out(T * n), d_rstd(T), d_dy(T * n), d_dx(T * n), d_dw(n);
  DeviceArray<pd_bf16> d_out16(T * n);
  DeviceArray<pd_half> d_outh(T * n);
  d_x.upload(x);
  d_w.upload(w);
  d_dy.upload(dy);
  pd_cuda::rmsnorm_forward(d_x.get(), d_w.get(), T, n, eps, Elem::F32, d_out.get(), d_rstd.get(), nullptr);
  pd_cuda::rmsnorm_forward(d_x.get(), d_w.get(), T, n, eps, Elem::BF16, d_out16.get(), nullptr, nullptr);
  pd_cuda::rmsnorm_forward(d_x.get(), d_w.get(), T, n, eps, Elem::F16, d_outh.get(), nullptr, nullptr);
  check_close("forward F32", d_out.download(), out, kF32Bound);
  check_close("forward rstd", d_rstd.download(), rstd, kF32Bound);
  check_close("forward BF16 vs rounded reference", bf16_values(d_out16.download()), bf16_rounded(out), kBf16Bound);
  {
    const std::vector<pd_half> got = d_outh.download();
    std::vector<float> gotf(got.size()), want(out.size());
    for (size_t i = 0; i < got.size(); i++) {
      gotf[i] = __half2float(got[i]);
      want[i] = __half2float(__float2half_rn(out[i]));
    }
    check_close("forward F16 vs rounded reference", gotf, want, kBf16Bound);  // F16 steps are 2^-11
  }

  pd_cuda::rmsnorm_backward(d_dy.get(), d_x.get(), d_w.get(), d_rstd.get(), T, n, d_dx.get(), false, nullptr,
                            nullptr);
  check_close("backward dx (=)", d_dx.download(), dx, kF32Bound);
  d_dx.upload(dy);  // dx aliasing dy: the gradient replaces dy in place
  pd_cuda::rmsnorm_backward(d_dx.get(), d_x.get(), d_w.get(), d_rstd.get(), T, n, d_dx.get(), false, nullptr,
                            nullptr);
  check_close("backward dx (=, in place over dy)", d_dx.download(), dx, kF32Bound);
  d_dx.upload(dx0);
  d_dw.upload(dw0);
  pd_cuda::rmsnorm_backward(d_dy.get(), d_x.get(), d_w.get(), d_rstd.get(), T, n, d_dx.get(), true, d_dw.get(),
                            nullptr);
  check_close("backward dx (+=)", d_dx.download(), dx_acc, kF32Bound);
  const std::vector<float> dw_first = d_dw.download();
  check_close("backward dw (+=, summed over rows)", dw_first, dw, kF32Bound);
  d_dw.upload(dw0);
  pd_cuda::rmsnorm_backward(d_dy.get(), d_x.get(), d_w.get(), d_rstd.get(), T, n, nullptr, false, d_dw.get(),
                            nullptr);
  CHECK_MSG(same_bits(d_dw.download(), dw_first), "rmsnorm dw differs between two runs");
  CHECK(d_out.guards_intact() && d_out16.guards_intact() && d_outh.guards_intact() && d_rstd.guards_intact() &&
        d_dx.guards_intact() && d_dw.guards_intact());
}

// ---- RoPE ----
void test_rope(int64_t T, int n_heads, int hd) {
  std::printf("rope T=%ld heads=%d head_dim=%d\n", (long)T, n_heads, hd);
  const int64_t row = (int64_t)n_heads * hd;
  std::vector<float> table(T * hd);
  for (int64_t t = 0; t < T; t++)
    paddock::rope_angles(t * 7 + 3, hd, 10000.0f, nullptr, 1.0f, &table[t * hd], &table[t * hd + hd / 2]);
  const std::vector<float> x = random_floats(T * row, 11, -3, 3);
  const std::vector<float> x16 = bf16_rounded(x);
  std::vector<float> fwd = x, fwd16 = x16, bwd = x;
  for (int64_t t = 0; t < T; t++) {
    const float* c = &table[t * hd];
    paddock::rope_apply(&fwd[t * row], n_heads, hd, c, c + hd / 2);
    paddock::rope_apply(&fwd16[t * row], n_heads, hd, c, c + hd / 2);
    paddock::rope_backward(&bwd[t * row], n_heads, hd, c, c + hd / 2);
  }
  DeviceArray<float> d_table(T * hd), d_x(T * row), d_dx(T * row);
  DeviceArray<pd_bf16> d_x16(T * row);
  d_table.upload(table);
  d_x.upload(x);
  d_dx.upload(x);
  std::vector<pd_bf16> h16(x.size());
  for (size_t i = 0; i < x.size(); i++) h16[i] = __float2bfloat16_rn(x[i]);
  d_x16.upload(h16);
  pd_cuda::rope_forward(d_x.get(), T, n_heads, hd, d_table.get(), nullptr);
  pd_cuda::rope_forward_bf16(d_x16.get(), T, n_heads, hd, d_table.get(), nullptr);
  pd_cuda::rope_backward(d_dx.get(), T, n_heads, hd, d_table.get(), nullptr);
  check_close("forward F32", d_x.download(), fwd, kF32Bound);
  check_close("forward BF16 vs rounded reference", bf16_values(d_x16.download()), bf16_rounded(fwd16), kBf16Bound);
  check_close("backward F32", d_dx.download(), bwd, kF32Bound);
  CHECK(d_x.guards_intact() && d_x16.guards_intact() && d_dx.guards_intact());
}

// ---- SwiGLU, add, scale ----
// offset 1 misaligns every operand: the scalar path.
void test_swiglu_and_arith(int64_t n, int offset) {
  std::printf("swiglu/add/scale n=%ld (%s)\n", (long)n, offset ? "scalar" : "vec4 + tail");
  const std::vector<float> g = random_floats(n, 21, -6, 6), u = random_floats(n, 22, -2, 2);
  const std::vector<float> dh = random_floats(n, 23, -1, 1);
  std::vector<float> h(n), dg(n), du(n), sum(n), scaled(n);
  paddock::swiglu_forward(h.data(), g.data(), u.data(), n);
  paddock::swiglu_backward(dg.data(), du.data(), dh.data(), g.data(), u.data(), n);
  for (int64_t i = 0; i < n; i++) {
    sum[i] = u[i] + g[i];
    scaled[i] = g[i] * 0.37f;
  }
  const int64_t size = n + offset;  // exactly n past the offset: the guard band follows element n-1
  DeviceArray<float> d_g(size), d_u(size), d_dh(size), d_h(size), d_dg(size), d_du(size);
  DeviceArray<pd_bf16> d_h16(size);
  auto upload = [&](DeviceArray<float>& d, const std::vector<float>& h_) {
    std::vector<float> padded(size, 0.0f);
    std::copy(h_.begin(), h_.end(), padded.begin() + offset);
    d.upload(padded);
  };
  auto download = [&](const auto& d) {
    auto all = d.download();
    return std::vector<typename decltype(all)::value_type>(all.begin() + offset, all.begin() + offset + n);
  };
  upload(d_g, g);
  upload(d_u, u);
  upload(d_dh, dh);
  pd_cuda::swiglu_forward(d_g.get() + offset, d_u.get() + offset, n, Elem::F32, d_h.get() + offset, nullptr);
  pd_cuda::swiglu_forward(d_g.get() + offset, d_u.get() + offset, n, Elem::BF16, d_h16.get() + offset, nullptr);
  pd_cuda::swiglu_backward(d_dh.get() + offset, d_g.get() + offset, d_u.get() + offset, n, d_dg.get() + offset,
                           d_du.get() + offset, nullptr);
  check_close("swiglu forward F32", download(d_h), h, kF32Bound);
  check_close("swiglu forward BF16 vs rounded reference", bf16_values(download(d_h16)), bf16_rounded(h),
              kBf16Bound);
  check_close("swiglu backward dg", download(d_dg), dg, kF32Bound);
  check_close("swiglu backward du", download(d_du), du, kF32Bound);
  // add and scale are one correctly rounded operation on both sides: the same bits.
  pd_cuda::add_inplace(d_u.get() + offset, d_g.get() + offset, n, nullptr);
  CHECK_MSG(same_bits(download(d_u), sum), "add_inplace differs from u + g");
  pd_cuda::scale_inplace(d_g.get() + offset, 0.37f, n, nullptr);
  CHECK_MSG(same_bits(download(d_g), scaled), "scale_inplace differs from g * 0.37");
  CHECK(d_h.guards_intact() && d_h16.guards_intact() && d_dg.guards_intact() && d_du.guards_intact() &&
        d_u.guards_intact() && d_g.guards_intact());
}

// ---- conversions: every direction, bit-exact against the host's round-to-nearest-even ----
template <class T>
std::vector<uint16_t> bits16(const std::vector<T>& v) {
  std::vector<uint16_t> b(v.size());
  std::memcpy(b.data(), v.data(), v.size() * 2);
  return b;
}

void test_convert(int64_t n) {
  std::printf("convert n=%ld\n", (long)n);
  std::vector<float> x = random_floats(n, 31, -70000, 70000);  // some beyond F16's range: inf
  for (int64_t i = 0; i < n; i += 3) x[i] *= 1e-6f;           // and small values: subnormal F16
  std::vector<pd_bf16> xb(n), fb(n), hb(n);
  std::vector<pd_half> xh(n), fh(n), bh(n);
  std::vector<float> bf(n), hf(n);
  for (int64_t i = 0; i < n; i++) {
    xb[i] = __float2bfloat16_rn(x[i]);
    xh[i] = __float2half_rn(x[i]);
    bf[i] = __bfloat162float(xb[i]);
    hf[i] = __half2float(xh[i]);
    hb[i] = __float2bfloat16_rn(hf[i]);
    bh[i] = __float2half_rn(bf[i]);
  }
  DeviceArray<float> d_x(n), d_f(n);
  DeviceArray<pd_bf16> d_xb(n), d_b(n);
  DeviceArray<pd_half> d_xh(n), d_h(n);
  d_x.upload(x);
  d_xb.upload(xb);
  d_xh.upload(xh);
  pd_cuda::convert(d_x.get(), Elem::F32, d_b.get(), Elem::BF16, n, nullptr);
  CHECK_MSG(bits16(d_b.download()) == bits16(xb), "F32 -> BF16");
  pd_cuda::convert(d_x.get(), Elem::F32, d_h.get(), Elem::F16, n, nullptr);
  CHECK_MSG(bits16(d_h.download()) == bits16(xh), "F32 -> F16");
  pd_cuda::convert(d_xb.get(), Elem::BF16, d_f.get(), Elem::F32, n, nullptr);
  CHECK_MSG(same_bits(d_f.download(), bf), "BF16 -> F32");
  pd_cuda::convert(d_xh.get(), Elem::F16, d_f.get(), Elem::F32, n, nullptr);
  CHECK_MSG(same_bits(d_f.download(), hf), "F16 -> F32");
  pd_cuda::convert(d_xh.get(), Elem::F16, d_b.get(), Elem::BF16, n, nullptr);
  CHECK_MSG(bits16(d_b.download()) == bits16(hb), "F16 -> BF16");
  pd_cuda::convert(d_xb.get(), Elem::BF16, d_h.get(), Elem::F16, n, nullptr);
  CHECK_MSG(bits16(d_h.download()) == bits16(bh), "BF16 -> F16");
  pd_cuda::convert(d_xb.get() + 1, Elem::BF16, d_f.get() + 1, Elem::F32, n - 1, nullptr);  // scalar path
  std::vector<float> shifted = d_f.download();
  CHECK_MSG(std::memcmp(shifted.data() + 1, bf.data() + 1, (n - 1) * 4) == 0, "BF16 -> F32 (unaligned)");
  CHECK(d_f.guards_intact() && d_b.guards_intact() && d_h.guards_intact());
}

// ---- cross-entropy ----
void test_cross_entropy(int64_t V, const std::vector<float>& weights, bool with_bf16) {
  const int64_t R = (int64_t)weights.size();
  std::printf("cross_entropy R=%ld V=%ld (%s)%s\n", (long)R, (long)V, V % 4 ? "scalar" : "vec4",
              with_bf16 ? " + BF16 gradient" : "");
  const float scale = 1.0f / 3.0f;
  std::vector<float> logits = random_floats(R * V, 41, -4, 4);
  std::vector<int32_t> targets(R);
  std::mt19937 rng(42);
  for (int64_t r = 0; r < R; r++) {
    targets[r] = (int32_t)(rng() % V);
    logits[r * V + (rng() % V)] += 12.0f;  // a confident wrong token: a large max to subtract
    if (r % 2) logits[r * V + targets[r]] += 6.0f;
  }
  std::vector<float> grad(R * V), loss(R);
  for (int64_t r = 0; r < R; r++)
    loss[r] = (float)paddock::cross_entropy_backward(&grad[r * V], &logits[r * V], V, targets[r], weights[r], scale);
  for (int64_t r = 0; r < R; r++)  // masked rows must not be read: NaN there would leak out
    if (weights[r] == 0.0f)
      for (int64_t i = 0; i < V; i++) logits[r * V + i] = NAN;

  DeviceArray<float> d_logits(R * V), d_weights(R), d_loss(R);
  DeviceArray<int32_t> d_targets(R);
  DeviceArray<pd_bf16> d_grad16(R * V);
  d_logits.upload(logits);
  d_weights.upload(weights);
  d_targets.upload(targets);
  pd_cuda::cross_entropy_rows(d_logits.get(), R, V, d_targets.get(), d_weights.get(), scale, d_loss.get(),
                              with_bf16 ? d_grad16.get() : nullptr, nullptr);
  const std::vector<float> got = d_logits.download(), got_loss = d_loss.download();
  check_close("gradient", got, grad, kF32Bound);
  check_close("loss per row (F32 vs the CPU's double)", got_loss, loss, kF32Bound);
  if (with_bf16) check_close("gradient BF16 vs rounded reference", bf16_values(d_grad16.download()),
                             bf16_rounded(grad), kBf16Bound);
  for (int64_t r = 0; r < R; r++)
    if (weights[r] == 0.0f) {
      bool zeros = got_loss[r] == 0.0f;
      for (int64_t i = 0; i < V; i++) zeros = zeros && got[r * V + i] == 0.0f;
      CHECK_MSG(zeros, "row %ld (weight 0) is not exactly zero", (long)r);
    }
  CHECK(d_logits.guards_intact() && d_loss.guards_intact() && d_grad16.guards_intact());
}

// ---- sum of squares ----
void test_sum_squares(int64_t n) {
  std::printf("sum_squares n=%ld\n", (long)n);
  const std::vector<float> x = random_floats(n, 51, -3, 3);
  DeviceArray<float> d_x(n);
  DeviceArray<double> d_out(2);
  d_x.upload(x);
  for (int offset = 0; offset < 2; offset++) {  // offset 1: the scalar path
    long double exact = 0;  // 64-bit mantissa: a reference well below the device's error
    for (int64_t i = offset; i < n; i++) exact += (long double)x[i] * (long double)x[i];
    const double want = (double)exact;
    d_out.upload({0.0, 5.0});
    pd_cuda::sum_squares(d_x.get() + offset, n - offset, d_out.get(), false, nullptr);
    pd_cuda::sum_squares(d_x.get() + offset, n - offset, d_out.get() + 1, true, nullptr);
    const std::vector<double> first = d_out.download();
    pd_cuda::sum_squares(d_x.get() + offset, n - offset, d_out.get(), false, nullptr);
    const std::vector<double> second = d_out.download();
    const double rel = std::fabs(first[0] - want) / want;
    std::printf("  offset %d: %.17g vs long double reference %.17g (rel %.2g)\n", offset, first[0], want, rel);
    CHECK(rel < 1e-14);  // short double sums (~400 terms a thread, then trees): ~1e-16 each
    CHECK(std::memcmp(&first[0], &second[0], 8) == 0);  // bitwise reproducible
    CHECK(std::fabs(first[1] - (5.0 + first[0])) <= 1e-12 * first[1]);
  }
  CHECK(d_out.guards_intact());
}

// ---- AdamW: three steps against train/adamw.cpp (the second one clipped) ----
void test_adamw(int64_t rows, int64_t cols) {
  std::printf("adamw %ldx%ld, 3 steps\n", (long)rows, (long)cols);
  const int64_t n = rows * cols;
  paddock::ParamSet params;
  paddock::Param& p = params.add("w", rows, cols);
  p.value = random_floats(n, 61, -1, 1);
  paddock::AdamWState state;
  state.init(params);
  paddock::AdamWConfig cfg;
  cfg.lr = 1e-3;
  cfg.weight_decay = 0.1;
  cfg.clip_norm = 1.0;
  DeviceArray<float> d_p(n), d_g(n), d_m(n), d_v(n);
  d_p.upload(p.value);
  d_m.upload(std::vector<float>(n, 0.0f));
  d_v.upload(std::vector<float>(n, 0.0f));
  const float grad_range[3] = {0.01f, 1.0f, 0.03f};  // norms ~0.2, ~18 (clipped), ~0.6
  for (int step = 0; step < 3; step++) {
    p.grad = random_floats(n, 70 + step, -grad_range[step], grad_range[step]);
    d_g.upload(p.grad);
    const double norm = paddock::grad_global_norm(params);
    const double coef = cfg.clip_norm / (norm + 1e-6);
    paddock::clip_grads(&params, norm, cfg.clip_norm);
    paddock::adamw_step(&params, &state, cfg, cfg.lr, nullptr);
    pd_cuda::AdamWArgs a;
    a.lr = cfg.lr;
    a.beta1 = cfg.beta1;
    a.beta2 = cfg.beta2;
    a.eps = cfg.eps;
    a.weight_decay = cfg.weight_decay;
    a.clip_factor = coef < 1.0 ? coef : 1.0;
    a.bias1 = 1.0 - std::pow(cfg.beta1, (double)state.t);
    a.bias2 = 1.0 - std::pow(cfg.beta2, (double)state.t);
    pd_cuda::adamw_update(d_p.get(), d_g.get(), d_m.get(), d_v.get(), n, a, nullptr);
  }
  // The same float constants and operations as the CPU: only FMA contraction differs.
  check_close("param after 3 steps", d_p.download(), p.value, 1e-12);
  check_close("first moment", d_m.download(), state.m[0], 1e-12);
  check_close("second moment", d_v.download(), state.v[0], 1e-12);
  CHECK(d_p.guards_intact() && d_m.guards_intact() && d_v.guards_intact());
}

// Real GPU only: effective bandwidth of the memory-bound ops at Llama 3 8B sizes (printed for
// the benchmark session; correctness is checked above).
void print_bandwidth() {
  const int64_t R = 512, V = 128256, T = 4096, dim = 4096, n = 64 << 20;
  DeviceArray<float> logits(R * V), weights(R), loss(R), x(T * dim), w(dim), out(T * dim), rstd(T);
  DeviceArray<float> p(n), g(n), m(n), v(n);
  DeviceArray<int32_t> targets(R);
  DeviceArray<double> sq(1);
  weights.upload(std::vector<float>(R, 1.0f));
  targets.upload(std::vector<int32_t>(R, 7));
  for (auto* a : {&logits, &x, &w, &p, &g, &m, &v}) pd_gpu::memset_zero(a->get(), a->n * sizeof(float));
  auto time_ms = [](auto&& fn) {
    fn();  // warm-up
    pd_gpu::Timer t;
    double ms = 0;
    pd_gpu::timer_start(&t);
    for (int i = 0; i < 10; i++) fn();
    pd_gpu::timer_stop_ms(&t, &ms);
    return ms / 10;
  };
  auto report = [](const char* what, double ms, double bytes) {
    std::printf("  %-44s %8.3f ms  %7.0f GB/s\n", what, ms, bytes / ms / 1e6);
  };
  report("cross_entropy_rows 512 x 128256", time_ms([&] {
           pd_cuda::cross_entropy_rows(logits.get(), R, V, targets.get(), weights.get(), 1.0f, loss.get(), nullptr,
                                       nullptr);
         }),
         3.0 * R * V * 4);
  report("rmsnorm_forward 4096 x 4096 F32", time_ms([&] {
           pd_cuda::rmsnorm_forward(x.get(), w.get(), T, dim, 1e-5f, Elem::F32, out.get(), rstd.get(), nullptr);
         }),
         2.0 * T * dim * 4);
  report("rmsnorm_backward 4096 x 4096 (dx and dw)", time_ms([&] {
           pd_cuda::rmsnorm_backward(out.get(), x.get(), w.get(), rstd.get(), T, dim, out.get(), true, w.get(),
                                     nullptr);
         }),
         6.0 * T * dim * 4);
  pd_cuda::AdamWArgs a{1e-4, 0.9, 0.999, 1e-8, 0.0, 1.0, 0.1, 0.001};
  report("adamw_update 64M", time_ms([&] { pd_cuda::adamw_update(p.get(), g.get(), m.get(), v.get(), n, a, nullptr); }),
         7.0 * n * 4);
  report("sum_squares 64M", time_ms([&] { pd_cuda::sum_squares(g.get(), n, sq.get(), false, nullptr); }), 4.0 * n);
}

}  // namespace

int main(int argc, char** argv) {
  cudatest::require_device("test_cuda_pointwise");
  const auto t0 = std::chrono::steady_clock::now();
  test_rmsnorm(5, 172);
  test_rmsnorm(37, 37);
  test_rope(5, 3, 6);
  test_rope(3, 4, 64);
  test_swiglu_and_arith(1031, 0);
  test_swiglu_and_arith(333, 1);
  test_convert(1029);
  test_cross_entropy(512, {1.0f, 0.0f, 0.5f, 1.0f}, true);
  test_cross_entropy(32000, {1.0f, 0.5f, 0.0f}, false);
  test_cross_entropy(37, {0.5f, 1.0f}, true);
  test_sum_squares(100003);
  test_sum_squares(1048579);  // several grid strides per thread (W=4: 2, W=1: 8) and a tail
  test_adamw(7, 149);
  if (!cudatest::emulated()) {  // Llama 3 sizes where a GPU runs them in no time
    test_rmsnorm(257, 4096);
    test_cross_entropy(128256, {1.0f, 0.25f, 0.0f, 1.0f, 1.0f}, true);
    test_sum_squares(50000017);
    print_bandwidth();
  }
  std::printf("time %.1f s\n", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return pdtest::finish("test_cuda_pointwise");
}
