// The multi-output float kernels of every table this CPU can run (scalar, AVX2, AVX-512):
// gemm_f32 gives exactly dot_f32 per output and matvec_f16/bf16 exactly dot_f16/dot_bf16, over
// odd shapes (block edges, every tail length); the AVX2 and AVX-512 tables agree bit for bit;
// all stay close to a double-precision reference. Also the F16 KV-cache kernels (f32_to_f16 and
// the attention kernels over F16 rows) against their F32 forms on converted data.
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "backend/cpu/kernels.h"
#include "core/dtype.h"
#include "testing.h"

using namespace paddock;

static std::vector<const CpuKernels*> tables() {
  std::vector<const CpuKernels*> t = {&cpu_kernels_scalar()};
  if (cpu_kernels_avx2()) t.push_back(cpu_kernels_avx2());
  if (cpu_kernels_avx512()) t.push_back(cpu_kernels_avx512());
  return t;
}

static std::vector<float> randn(size_t n, std::mt19937& rng) {
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = nd(rng);
  return v;
}

static void test_gemm_shapes(const CpuKernels& k) {
  std::mt19937 rng(7);
  int bad_bits = 0, bad_ref = 0, cases = 0;
  for (int64_t n : {1, 7, 8, 31, 32, 33, 67, 200}) {
    for (int64_t R : {1, 2, 3, 4, 5, 9}) {
      for (int64_t C : {1, 2, 3, 4, 7}) {
        const int64_t ldw = n + 3, ldx = n + 5, ldy = R + 2;  // strides wider than the rows
        std::vector<float> w = randn((size_t)(R * ldw), rng), x = randn((size_t)(C * ldx), rng);
        std::vector<float> y((size_t)(C * ldy), -777.0f);
        k.gemm_f32(w.data(), ldw, R, x.data(), ldx, C, n, y.data(), ldy);
        cases++;
        for (int64_t t = 0; t < C; t++) {
          for (int64_t r = 0; r < ldy; r++) {
            const float got = y[(size_t)(t * ldy + r)];
            if (r >= R) {  // outside the block: untouched
              bad_bits += got != -777.0f;
              continue;
            }
            const float dot = k.dot_f32(w.data() + r * ldw, x.data() + t * ldx, n);
            bad_bits += std::memcmp(&got, &dot, 4) != 0;
            double ref = 0, mag = 0;
            for (int64_t i = 0; i < n; i++) {
              ref += (double)w[(size_t)(r * ldw + i)] * x[(size_t)(t * ldx + i)];
              mag += std::fabs((double)w[(size_t)(r * ldw + i)] * x[(size_t)(t * ldx + i)]);
            }
            bad_ref += std::fabs(got - ref) > 1e-5 * mag + 1e-6;
          }
        }
      }
    }
  }
  CHECK_MSG(bad_bits == 0, "%s gemm_f32: %d outputs differ from dot_f32 (or were written outside the block)", k.isa,
            bad_bits);
  CHECK_MSG(bad_ref == 0, "%s gemm_f32: %d outputs far from the double reference", k.isa, bad_ref);
  CHECK(cases == 240);
}

static void test_matvec(const CpuKernels& k) {
  std::mt19937 rng(11);
  int bad = 0;
  for (int64_t n : {8, 33, 64, 100, 2048}) {
    for (int64_t R : {1, 3, 4, 5, 8, 13}) {
      std::vector<float> wf = randn((size_t)(R * n), rng), x = randn((size_t)n, rng);
      std::vector<uint16_t> h((size_t)(R * n)), b((size_t)(R * n));
      for (size_t i = 0; i < wf.size(); i++) h[i] = fp32_to_fp16(wf[i]), b[i] = fp32_to_bf16(wf[i]);
      std::vector<float> yh((size_t)R), yb((size_t)R);
      k.matvec_f16(h.data(), R, x.data(), n, yh.data());
      k.matvec_bf16(b.data(), R, x.data(), n, yb.data());
      for (int64_t r = 0; r < R; r++) {
        const float dh = k.dot_f16(h.data() + r * n, x.data(), n), db = k.dot_bf16(b.data() + r * n, x.data(), n);
        bad += std::memcmp(&yh[(size_t)r], &dh, 4) != 0;
        bad += std::memcmp(&yb[(size_t)r], &db, 4) != 0;
      }
    }
  }
  CHECK_MSG(bad == 0, "%s matvec: %d outputs differ from dot_f16/dot_bf16", k.isa, bad);
}

// Two SIMD tables with the same lane layout and FMA must agree exactly (dots, GEMM, matvec).
static void test_tables_agree(const CpuKernels& a, const CpuKernels& b) {
  std::mt19937 rng(3);
  const int64_t n = 2048 + 13, R = 7, C = 5;
  std::vector<float> w = randn((size_t)(R * n), rng), x = randn((size_t)(C * n), rng);
  std::vector<float> ya((size_t)(R * C)), yb((size_t)(R * C));
  a.gemm_f32(w.data(), n, R, x.data(), n, C, n, ya.data(), R);
  b.gemm_f32(w.data(), n, R, x.data(), n, C, n, yb.data(), R);
  CHECK_MSG(std::memcmp(ya.data(), yb.data(), ya.size() * 4) == 0, "%s and %s gemm_f32 differ", a.isa, b.isa);
  std::vector<uint16_t> h((size_t)(R * n));
  for (size_t i = 0; i < h.size(); i++) h[i] = fp32_to_fp16(w[i]);
  a.matvec_f16(h.data(), R, x.data(), n, ya.data());
  b.matvec_f16(h.data(), R, x.data(), n, yb.data());
  CHECK_MSG(std::memcmp(ya.data(), yb.data(), (size_t)R * 4) == 0, "%s and %s matvec_f16 differ", a.isa, b.isa);
}

static void test_f16_cache_kernels(const CpuKernels& k) {
  std::mt19937 rng(5);
  // f32_to_f16 rounds exactly as the scalar reference (ties, subnormals, overflow included)
  std::vector<float> v = randn(1000, rng);
  v[0] = 65520.0f, v[1] = 1e-7f, v[2] = -3e-5f, v[3] = 65504.0f, v[4] = 1.0f + 1.0f / 2048.0f;
  std::vector<uint16_t> h(v.size());
  k.f32_to_f16(v.data(), h.data(), (int64_t)v.size());
  int bad = 0;
  for (size_t i = 0; i < v.size(); i++) bad += h[i] != fp32_to_fp16(v[i]);
  CHECK_MSG(bad == 0, "%s f32_to_f16: %d values round differently", k.isa, bad);

  // attention over an F16 cache == attention over the same cache converted to F32
  for (int64_t hd : {8, 12, 64}) {
    const int64_t stride = hd * 3, n = 37;
    std::vector<float> q = randn((size_t)hd, rng), kf = randn((size_t)(stride * n), rng);
    std::vector<uint16_t> kh(kf.size());
    for (size_t i = 0; i < kf.size(); i++) kh[i] = fp32_to_fp16(kf[i]), kf[i] = fp16_to_fp32(kh[i]);
    std::vector<float> s32((size_t)n), s16((size_t)n), o32((size_t)hd), o16((size_t)hd);
    k.attn_scores(q.data(), kf.data() + hd, stride, n, hd, 0.125f, s32.data());
    k.attn_scores_f16(q.data(), kh.data() + hd, stride, n, hd, 0.125f, s16.data());
    CHECK_MSG(std::memcmp(s32.data(), s16.data(), (size_t)n * 4) == 0, "%s attn_scores_f16 hd=%lld", k.isa,
              (long long)hd);
    k.softmax(s32.data(), n);
    k.attn_values(s32.data(), kf.data() + hd, stride, n, hd, o32.data());
    k.attn_values_f16(s32.data(), kh.data() + hd, stride, n, hd, o16.data());
    CHECK_MSG(std::memcmp(o32.data(), o16.data(), (size_t)hd * 4) == 0, "%s attn_values_f16 hd=%lld", k.isa,
              (long long)hd);
  }
}

int main() {
  const std::vector<const CpuKernels*> t = tables();
  std::printf("kernel tables: ");
  for (const CpuKernels* k : t) std::printf("%s ", k->isa);
  std::printf("(selected: %s)\n", cpu_kernels().isa);
  for (const CpuKernels* k : t) {
    test_gemm_shapes(*k);
    test_matvec(*k);
    test_f16_cache_kernels(*k);
  }
  if (cpu_kernels_avx2() && cpu_kernels_avx512()) test_tables_agree(*cpu_kernels_avx2(), *cpu_kernels_avx512());
  return pdtest::finish("test_gemm");
}
