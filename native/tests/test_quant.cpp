// Quantized block formats and kernels: round-trip error, scalar vs SIMD agreement, quantized
// dot vs float dot, matvec/matmul contracts, shape rejection. Exits non-zero on any failure;
// the last line is "N passed, M failed". Format compatibility with ggml's own bytes is in
// test_quant_golden.cpp.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "../src/backend/cpu/quant.h"
#include "../src/backend/cpu/quant_fp16.h"
#include "../src/backend/cpu/quant_kernels.h"
#include "../src/backend/cpu/quant_matvec.h"

using namespace paddock::quant;

namespace {

int g_pass = 0, g_fail = 0;

void check(bool ok, const char* what, const char* detail = "") {
  if (ok) {
    g_pass++;
  } else {
    g_fail++;
    std::printf("FAIL %s %s\n", what, detail);
  }
}

struct Rng {  // splitmix64: same stream on every platform
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed) {}
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  float uniform() { return float(next() >> 40) * (1.0f / 16777216.0f); }  // [0, 1)
  int range(int lo, int hi) { return lo + int(next() % uint64_t(hi - lo + 1)); }
  float gauss() {  // Box-Muller
    const float u1 = uniform() + 1e-7f, u2 = uniform();
    return std::sqrt(-2.0f * std::log(u1)) * std::cos(6.2831853f * u2);
  }
};

std::vector<float> gaussian(int n, uint64_t seed, float sigma = 1.0f) {
  Rng r(seed);
  std::vector<float> v(n);
  for (float& x : v) x = sigma * r.gauss();
  return v;
}

const QuantType kWeightTypes[] = {QuantType::F16, QuantType::Q4_0, QuantType::Q4_1, QuantType::Q8_0,
                                  QuantType::Q4_K, QuantType::Q5_K, QuantType::Q6_K};
const QuantType kAllQuant[] = {QuantType::Q4_0, QuantType::Q4_1, QuantType::Q8_0, QuantType::Q8_1,
                               QuantType::Q4_K, QuantType::Q5_K, QuantType::Q6_K, QuantType::Q8_K};

const char* name(QuantType t) { return quant_type_info(t)->name; }

std::vector<uint8_t> quantize(QuantType t, const std::vector<float>& x, QuantIsa isa = QuantIsa::Scalar) {
  std::vector<uint8_t> q(quant_row_size(t, int64_t(x.size())));
  quant_kernels_isa(t, isa)->from_float(x.data(), q.data(), int64_t(x.size()));
  return q;
}

std::vector<float> dequantize(QuantType t, const std::vector<uint8_t>& q, int n) {
  std::vector<float> y(n);
  quant_kernels(t)->to_float(q.data(), y.data(), n);
  return y;
}

// ------------------------------------------------------------------ type table, fp16
void test_type_table() {
  struct Expect { QuantType t; int id; const char* name; int bs; size_t bytes; };
  const Expect e[] = {{QuantType::F32, 0, "f32", 1, 4},       {QuantType::F16, 1, "f16", 1, 2},
                      {QuantType::Q4_0, 2, "q4_0", 32, 18},   {QuantType::Q4_1, 3, "q4_1", 32, 20},
                      {QuantType::Q8_0, 8, "q8_0", 32, 34},   {QuantType::Q8_1, 9, "q8_1", 32, 36},
                      {QuantType::Q4_K, 12, "q4_K", 256, 144}, {QuantType::Q5_K, 13, "q5_K", 256, 176},
                      {QuantType::Q6_K, 14, "q6_K", 256, 210}, {QuantType::Q8_K, 15, "q8_K", 256, 292}};
  for (const Expect& x : e) {
    const QuantTypeInfo* info = quant_type_info(x.id);
    check(info && info->type == x.t && std::strcmp(info->name, x.name) == 0 && info->block_size == x.bs &&
              info->type_size == x.bytes,
          "type table entry", x.name);
  }
  check(quant_type_info(6) == nullptr, "type table: unimplemented q5_0 is absent");
  check(quant_row_size(QuantType::Q4_K, 4096) == 16 * 144, "row size q4_K 4096");
  check(quant_row_size(QuantType::Q4_K, 4000) == 0, "row size q4_K 4000 rejected");
  uint8_t bytes[12], out[16];
  Rng r(7);
  bool same = true;
  for (int it = 0; it < 1000; it++) {
    for (uint8_t& b : bytes) b = uint8_t(r.next());
    kq_unpack_scales(bytes, out);
    for (int j = 0; j < 8; j++) {
      uint8_t sc, m;
      kq_scale_min(j, bytes, &sc, &m);
      same = same && sc == out[j] && m == out[8 + j];
    }
  }
  check(same, "kq_unpack_scales == kq_scale_min");
}

bool same_half(f16_t a, f16_t b) { return a == b; }

void test_fp16() {
  bool roundtrip = true;
  for (uint32_t h = 0; h < 65536; h++) {
    const float f = fp16_to_fp32(f16_t(h));
    const bool nan = ((h >> 10) & 0x1f) == 0x1f && (h & 0x3ff);
    if (nan) roundtrip = roundtrip && std::isnan(f) && fp32_to_fp16(f) == f16_t(h | 0x200);
    else roundtrip = roundtrip && fp32_to_fp16(f) == f16_t(h);
  }
  check(roundtrip, "fp16 -> fp32 -> fp16 is the identity on all 65536 halves (NaNs made quiet)");
  // Known roundings: ties to even, overflow, subnormals.
  check(fp32_to_fp16(1.0f + 1.0f / 2048.0f) == 0x3c00, "fp16 tie rounds to even (down)");
  check(fp32_to_fp16(1.0f + 3.0f / 2048.0f) == 0x3c02, "fp16 tie rounds to even (up)");
  check(fp32_to_fp16(65519.0f) == 0x7bff && fp32_to_fp16(65520.0f) == 0x7c00, "fp16 overflow threshold");
  check(fp32_to_fp16(5.9604645e-8f) == 0x0001 && fp32_to_fp16(2.9802322e-8f) == 0x0000, "fp16 smallest subnormal");
  if (!quant_isa_available(QuantIsa::AVX2)) {
    std::printf("skip: F16C comparison (no AVX2/F16C on this CPU)\n");
    return;
  }
#if defined(PADDOCK_QUANT_X86)
  std::vector<uint16_t> all(65536);
  for (uint32_t h = 0; h < 65536; h++) all[h] = uint16_t(h);
  std::vector<float> hw(65536);
  avx2::fp16_to_fp32_row(all.data(), hw.data(), 65536);
  bool same = true;
  for (uint32_t h = 0; h < 65536; h++) {
    const float s = fp16_to_fp32(uint16_t(h));
    same = same && std::memcmp(&s, &hw[h], 4) == 0;
  }
  check(same, "scalar fp16->fp32 == F16C bit for bit, all halves");
  Rng r(11);
  const int n = 1 << 20;
  std::vector<float> f(n);
  for (int i = 0; i < n; i++) {
    uint32_t bits = uint32_t(r.next());
    if (i % 2) bits = (bits & 0x83ffffffu) | 0x38000000u;  // half the samples near half range
    std::memcpy(&f[i], &bits, 4);
  }
  std::vector<uint16_t> h16(n);
  avx2::fp32_to_fp16_row(f.data(), h16.data(), n);
  size_t bad = 0;
  for (int i = 0; i < n; i++) bad += !same_half(fp32_to_fp16(f[i]), h16[i]);
  check(bad == 0, "scalar fp32->fp16 == F16C bit for bit, 1M random floats");
#endif
}

// ------------------------------------------------------------------ round trip
void test_round_trip() {
  // Bounds: RMSE / sigma on N(0,1) data, measured with ggml's reference quantizers (our
  // quantizers give the same bytes) plus ~3% headroom for the sample.
  struct Bound { QuantType t; double max_rmse; };
  const Bound bounds[] = {{QuantType::Q4_0, 0.0885}, {QuantType::Q4_1, 0.0806}, {QuantType::Q8_0, 0.00552},
                          {QuantType::Q8_1, 0.00552}, {QuantType::Q4_K, 0.0736}, {QuantType::Q5_K, 0.0372},
                          {QuantType::Q6_K, 0.0183},  {QuantType::Q8_K, 0.00717}};
  const int n = 256 * 512;
  for (float sigma : {1.0f, 0.02f}) {
    const std::vector<float> x = gaussian(n, 1234, sigma);
    for (const Bound& b : bounds) {
      const std::vector<float> y = dequantize(b.t, quantize(b.t, x), n);
      double se = 0;
      for (int i = 0; i < n; i++) se += double(y[i] - x[i]) * double(y[i] - x[i]);
      const double rmse = std::sqrt(se / n) / sigma;
      char msg[128];
      std::snprintf(msg, sizeof msg, "%s sigma %g: rmse/sigma %.5f (bound %.5f)", name(b.t), sigma, rmse, b.max_rmse);
      check(rmse <= b.max_rmse, "round trip", msg);
      if (sigma == 1.0f) std::printf("  round trip %s\n", msg);
    }
  }
  // Degenerate blocks: zeros and constants must come back exactly representable, no NaN.
  for (QuantType t : kAllQuant) {
    std::vector<float> z(256, 0.0f), c(256, -0.75f);
    const std::vector<float> yz = dequantize(t, quantize(t, z), 256);
    const std::vector<float> yc = dequantize(t, quantize(t, c), 256);
    bool ok = true;
    for (int i = 0; i < 256; i++) ok = ok && yz[i] == 0.0f && std::fabs(yc[i] + 0.75f) < 0.01f;
    check(ok, "zero / constant block", name(t));
  }
}

// ------------------------------------------------------------------ activation quantizers
void test_activation_quantizers() {
  if (!quant_isa_available(QuantIsa::AVX2)) {
    std::printf("skip: AVX2 activation quantizers\n");
    return;
  }
  std::vector<float> x = gaussian(256 * 64, 99);
  // Exact .5 ties after scaling: amax 127 gives d = 1, so these land on k + 0.5.
  // The next block holds values one ulp inside a tie (must round toward zero).
  for (int i = 0; i < 64; i++) x[i] = (i == 0) ? 127.0f : float(i % 20) - 9.5f;
  for (int i = 64; i < 96; i++) x[i] = (i == 64) ? 127.0f : std::nextafter(float(i % 20) - 9.5f, 0.0f);
  for (QuantType t : {QuantType::Q8_0, QuantType::Q8_1, QuantType::Q8_K}) {
    const std::vector<uint8_t> a = quantize(t, x, QuantIsa::Scalar), b = quantize(t, x, QuantIsa::AVX2);
    check(a == b, "AVX2 activation quantizer == reference, byte for byte", name(t));
  }
}

// ------------------------------------------------------------------ dot products
// Random blocks whose float scales are powers of two: every float operation in the dot is
// exact, so scalar and SIMD must agree bit for bit (this isolates the integer arithmetic).
// One exponent per row keeps every partial sum an integer multiple of one power of two below
// 2^24. Weights use the full byte range (Q8_0 weights may hold -128); activations stay in
// [-lim, lim] (quantizers never emit -128; K-quant activations are kept smaller so the
// 16-bit-scaled sums stay exactly representable in float).
std::vector<uint8_t> exact_blocks(QuantType t, int n, Rng& r, bool activation) {
  std::vector<uint8_t> q(quant_row_size(t, n));
  for (uint8_t& b : q) b = uint8_t(r.next());
  const QuantTypeInfo* info = quant_type_info(t);
  const int lim = t == QuantType::Q8_K ? 31 : 127;
  const int e = r.range(-8, -4);
  const f16_t h = fp32_to_fp16(std::ldexp(1.0f, e)), h2 = fp32_to_fp16(std::ldexp(1.0f, e + 2));
  for (int i = 0; i < n / info->block_size; i++) {
    uint8_t* blk = q.data() + size_t(i) * info->type_size;
    switch (t) {
      case QuantType::Q4_0: case QuantType::Q8_0: case QuantType::Q8_1:
      case QuantType::Q4_1: case QuantType::Q4_K: case QuantType::Q5_K:
        std::memcpy(blk, &h, 2);
        std::memcpy(blk + 2, &h2, 2);  // Q4_1 m, K-quant dmin (Q8_1 s is set below)
        break;
      case QuantType::Q6_K: std::memcpy(blk + 208, &h, 2); break;
      default: break;
    }
    if (!activation) continue;
    if (t == QuantType::Q8_0 || t == QuantType::Q8_1) {
      int8_t* qs = reinterpret_cast<int8_t*>(blk + (t == QuantType::Q8_0 ? 2 : 4));
      int sum = 0;
      for (int j = 0; j < 32; j++) sum += (qs[j] = int8_t(r.range(-lim, lim)));
      if (t == QuantType::Q8_1) {
        const f16_t s = fp32_to_fp16(std::ldexp(float(sum), e));
        std::memcpy(blk + 2, &s, 2);
      }
    } else if (t == QuantType::Q8_K) {
      block_q8_K* b = reinterpret_cast<block_q8_K*>(blk);
      b->d = std::ldexp(1.0f, e);
      for (int g = 0; g < 16; g++) {
        int sum = 0;
        for (int j = 0; j < 16; j++) sum += (b->qs[16 * g + j] = int8_t(r.range(-lim, lim)));
        b->bsums[g] = int16_t(sum);
      }
    }
  }
  return q;
}

void test_dot_scalar_vs_simd() {
  if (!quant_isa_available(QuantIsa::AVX2)) {
    std::printf("skip: scalar vs AVX2 dot products (no AVX2)\n");
    return;
  }
  Rng r(2024);
  for (QuantType t : kWeightTypes) {
    const QuantKernels* ks = quant_kernels_isa(t, QuantIsa::Scalar);
    const QuantKernels* kv = quant_kernels_isa(t, QuantIsa::AVX2);
    const QuantType at = ks->vec_dot_type;
    for (int n : {256, 4096, 5632 - 5632 % 256}) {
      // (a) exact mode: bit-identical
      if (t != QuantType::F16) {
        bool same = true;
        for (int it = 0; it < 20; it++) {
          const std::vector<uint8_t> w = exact_blocks(t, n, r, false), a = exact_blocks(at, n, r, true);
          const float s = ks->vec_dot(n, w.data(), a.data()), v = kv->vec_dot(n, w.data(), a.data());
          same = same && std::memcmp(&s, &v, 4) == 0;
        }
        char msg[64];
        std::snprintf(msg, sizeof msg, "%s n=%d", name(t), n);
        check(same, "scalar == AVX2 bit for bit with power-of-two scales", msg);
      }
      // (b) real data: agree to 1e-5 of the magnitude sum|w||a| (float accumulation order)
      const std::vector<float> xw = gaussian(n, 5 + n, 0.05f), xa = gaussian(n, 6 + n);
      const std::vector<uint8_t> w = quantize(t, xw), a = quantize(at, xa);
      const std::vector<float> wd = dequantize(t, w, n), ad = dequantize(at, a, n);
      double mag = 0;
      for (int i = 0; i < n; i++) mag += std::fabs(double(wd[i]) * ad[i]);
      const float s = ks->vec_dot(n, w.data(), a.data()), v = kv->vec_dot(n, w.data(), a.data());
      char msg[128];
      std::snprintf(msg, sizeof msg, "%s n=%d scalar %.7g avx2 %.7g", name(t), n, s, v);
      check(std::fabs(double(s) - v) <= 1e-5 * mag, "scalar vs AVX2 within 1e-5 relative", msg);
      // (c) batched kernel == single-row kernel, bit for bit, for batch sizes 1..7
      for (const QuantKernels* k : {ks, kv}) {
        std::vector<uint8_t> acts;
        for (int b = 0; b < 7; b++) {
          const std::vector<uint8_t> ab = quantize(at, gaussian(n, 100 + b));
          acts.insert(acts.end(), ab.begin(), ab.end());
        }
        const size_t stride = quant_row_size(at, n);
        bool same = true;
        for (int na = 1; na <= 7; na++) {
          float out[8];
          k->vec_dot_multi(n, w.data(), acts.data(), stride, na, out);
          for (int b = 0; b < na; b++) {
            const float one = k->vec_dot(n, w.data(), acts.data() + b * stride);
            same = same && std::memcmp(&one, &out[b], 4) == 0;
          }
        }
        check(same, "vec_dot_multi == vec_dot bit for bit", name(t));
      }
    }
  }
}

// Quantized dot (int8 activations) vs the float dot of the dequantized weights with the float
// activations. The only difference is activation rounding, at most d_a/2 per element and
// uniform, so the error is ~N(0, sum w_i^2 d_a(i)^2 / 12); we allow 6 sigma.
void test_dot_vs_float() {
  for (QuantType t : kWeightTypes) {
    const QuantKernels* k = quant_kernels(t);
    const QuantType at = k->vec_dot_type;
    const QuantTypeInfo* ai = quant_type_info(at);
    const int n = 4096;
    bool ok = true;
    double worst = 0;
    for (int it = 0; it < 50; it++) {
      const std::vector<float> xw = gaussian(n, 300 + it, 0.05f), xa = gaussian(n, 400 + it);
      const std::vector<uint8_t> w = quantize(t, xw), a = quantize(at, xa);
      const std::vector<float> wd = dequantize(t, w, n), ad = dequantize(at, a, n);
      double exact = 0, var = 0, mag = 0;
      for (int i = 0; i < n; i++) {
        exact += double(wd[i]) * xa[i];
        mag += std::fabs(double(wd[i]) * xa[i]);
        if (at == QuantType::F32) continue;
        // per-block activation step: max |a| in the block / 127
        const int b0 = i / ai->block_size * ai->block_size;
        float amax = 0;
        for (int j = b0; j < b0 + ai->block_size; j++) amax = std::fmax(amax, std::fabs(xa[j]));
        const double da = amax / 127.0;
        var += double(wd[i]) * wd[i] * da * da / 12.0;
      }
      const double got = k->vec_dot(n, w.data(), a.data());
      const double tol = 6.0 * std::sqrt(var) + 1e-5 * mag;
      worst = std::fmax(worst, std::fabs(got - exact) / tol);
      ok = ok && std::fabs(got - exact) <= tol;
    }
    char msg[96];
    std::snprintf(msg, sizeof msg, "%s (worst |err|/tol %.2f)", name(t), worst);
    check(ok, "quantized dot vs float dot within 6 sigma of activation rounding", msg);
    std::printf("  dot vs float %s\n", msg);
  }
}

// ------------------------------------------------------------------ matvec / matmul
void test_matvec() {
  const int rows = 40, cols = 512;
  for (QuantType t : kWeightTypes) {
    const std::vector<float> wf = gaussian(rows * cols, 77, 0.05f), x = gaussian(cols * 5, 78);
    std::vector<uint8_t> W(quant_row_size(t, cols) * rows);
    quant_kernels(t)->from_float(wf.data(), W.data(), int64_t(rows) * cols);
    std::vector<uint8_t> scratch(quant_act_row_size(t, cols) * 5);
    check(quant_prepare_act(t, x.data(), cols, 5, scratch.data()) == QuantStatus::Ok, "prepare act", name(t));
    // Whole range vs three uneven "thread" ranges vs no-scratch convenience path.
    std::vector<float> y1(rows), y2(rows, -1.0f), y3(rows);
    quant_matvec(t, W.data(), rows, cols, x.data(), y1.data(), 0, rows, scratch.data());
    for (int b : {0, 7, 23}) {
      const int e = b == 0 ? 7 : (b == 7 ? 23 : rows);
      quant_matvec(t, W.data(), rows, cols, x.data(), y2.data(), b, e, scratch.data());
    }
    quant_matvec(t, W.data(), rows, cols, x.data(), y3.data(), 0, rows, nullptr);
    check(std::memcmp(y1.data(), y2.data(), rows * 4) == 0, "matvec split over row ranges is bitwise identical", name(t));
    check(std::memcmp(y1.data(), y3.data(), rows * 4) == 0, "matvec without scratch == with scratch", name(t));
    // Batched: each activation row equals its own matvec, bit for bit.
    std::vector<float> Y(5 * rows);
    check(quant_matmul(t, W.data(), rows, cols, x.data(), 5, Y.data(), 0, rows, scratch.data()) == QuantStatus::Ok,
          "matmul ok", name(t));
    bool same = true;
    for (int a = 0; a < 5; a++) {
      std::vector<float> ya(rows);
      quant_matvec(t, W.data(), rows, cols, x.data() + a * cols, ya.data(), 0, rows, nullptr);
      same = same && std::memcmp(ya.data(), Y.data() + a * rows, rows * 4) == 0;
    }
    check(same, "matmul rows == per-row matvec, bit for bit", name(t));
    // And close to the float product.
    double err = 0, ref = 0;
    const std::vector<float> wd = [&] { std::vector<float> v(rows * cols); quant_kernels(t)->to_float(W.data(), v.data(), int64_t(rows) * cols); return v; }();
    for (int r = 0; r < rows; r++) {
      double s = 0;
      for (int c = 0; c < cols; c++) s += double(wd[r * cols + c]) * x[c];
      err += (y1[r] - s) * (y1[r] - s);
      ref += s * s;
    }
    check(std::sqrt(err / ref) < 0.02, "matvec vs float matvec, relative error < 2%", name(t));
  }
}

void test_rejections() {
  std::vector<float> x(1024, 1.0f), y(1024);
  std::vector<uint8_t> q(8192);
  for (QuantType t : kAllQuant) {
    const QuantKernels* k = quant_kernels(t);
    const int bs = quant_type_info(t)->block_size;
    bool rejected = true;
    for (int n : {bs + 1, bs - 1, 3 * bs + 16, 100}) {
      rejected = rejected && !k->from_float(x.data(), q.data(), n) && !k->to_float(q.data(), y.data(), n);
    }
    check(rejected, "quantize/dequantize reject a length that is not a multiple of the block", name(t));
  }
  const std::vector<uint8_t> W(1 << 16);
  std::vector<uint8_t> s(1 << 16);
  using S = QuantStatus;
  check(quant_matvec(QuantType::Q4_0, W.data(), 4, 48, x.data(), y.data(), 0, 4, nullptr) == S::BadShape, "q4_0 cols 48 rejected");
  check(quant_matvec(QuantType::Q4_K, W.data(), 4, 288, x.data(), y.data(), 0, 4, nullptr) == S::BadShape, "q4_K cols 288 rejected");
  check(quant_matvec(QuantType::Q6_K, W.data(), 4, 172, x.data(), y.data(), 0, 4, nullptr) == S::BadShape, "q6_K cols 172 rejected");
  check(quant_matvec(QuantType::Q8_0, W.data(), 4, 0, x.data(), y.data(), 0, 4, nullptr) == S::BadShape, "cols 0 rejected");
  check(quant_act_row_size(QuantType::Q5_K, 300) == 0, "act row size 0 for bad shape");
  check(quant_prepare_act(QuantType::Q4_K, x.data(), 250, 1, s.data()) == S::BadShape, "prepare rejects bad shape");
  check(quant_matvec(QuantType::Q4_0, W.data(), 4, 64, x.data(), y.data(), 2, 5, nullptr) == S::BadRange, "row_end > rows rejected");
  check(quant_matvec(QuantType::Q4_0, W.data(), 4, 64, x.data(), y.data(), 3, 2, nullptr) == S::BadRange, "row_begin > row_end rejected");
  check(quant_matmul(QuantType::Q4_0, W.data(), 4, 64, x.data(), 0, y.data(), 0, 4, nullptr) == S::BadRange, "n_act 0 rejected");
  check(quant_matvec(QuantType::Q8_K, W.data(), 4, 256, x.data(), y.data(), 0, 4, nullptr) == S::UnsupportedType, "q8_K weights rejected");
  check(quant_matvec(static_cast<QuantType>(6), W.data(), 4, 256, x.data(), y.data(), 0, 4, nullptr) == S::UnsupportedType, "unknown type rejected");
  check(quant_matvec(QuantType::Q4_0, nullptr, 4, 64, x.data(), y.data(), 0, 4, nullptr) == S::NullArgument, "null W rejected");
  check(quant_matvec(QuantType::Q4_0, W.data(), 4, 64, x.data(), y.data(), 2, 2, nullptr) == S::Ok, "empty row range is fine");
  check(std::strlen(quant_status_message(S::BadShape)) > 10, "status messages exist");
}

}  // namespace

int main() {
  std::printf("quant kernels: best ISA %s\n", quant_isa_name(quant_best_isa()));
  test_type_table();
  test_fp16();
  test_round_trip();
  test_activation_quantizers();
  test_dot_scalar_vs_simd();
  test_dot_vs_float();
  test_matvec();
  test_rejections();
  std::printf("%d passed, %d failed\n", g_pass, g_fail);
  return g_fail == 0 ? 0 : 1;
}
