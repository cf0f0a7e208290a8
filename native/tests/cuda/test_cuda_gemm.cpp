// pd_cuda::gemm against a double-precision host product of the same (already rounded) inputs,
// so the only differences left are F32 accumulation order and the output's rounding. Covered:
// the three layouts NT/NN/TN; BF16/F16 operands (tensor cores, both block tiles) with F32, BF16
// and F16 output, and F32 operands (CUDA cores); tile-aligned and ragged M/N/K (stories260K's
// hidden 172); K not a multiple of 8; strided leading dimensions, misaligned bases (the element
// loader) and 8-aligned ones (cp.async); alpha != 1 and beta != 0.
// Honesty traps: operand padding (ld beyond the row) holds NaN, so reading it shows; with beta 0,
// C starts as NaN (it must not be read); C's padding and guard bands around every buffer must
// come back untouched.
#include <cstdint>
#include <random>

#include "backend/cuda/gemm.h"
#include "core/dtype.h"
#include "core/fp16.h"
#include "cuda_testing.h"

using pd_cuda::Elem;
using pd_cuda::GemmOp;
using pd_cuda::GemmTiles;

namespace {

struct Case {
  GemmOp op;
  Elem ab, c;
  int M, N, K;
  int pad_a = 0, pad_b = 0, pad_c = 0;  // elements past the row length in each row
  float alpha = 1.0f, beta = 0.0f;
  GemmTiles tiles = GemmTiles::Auto;
  int shift_a = 0;  // elements A's base is moved (1: off 16-byte alignment)
};

const char* op_name(GemmOp op) { return op == GemmOp::NT ? "NT" : op == GemmOp::NN ? "NN" : "TN"; }
const char* elem_name(Elem e) { return e == Elem::F32 ? "f32" : e == Elem::BF16 ? "bf16" : "f16"; }
const char* tiles_name(GemmTiles t) {
  return t == GemmTiles::Auto ? "auto" : t == GemmTiles::Large128x128 ? "128x128" : "64x64";
}

// A matrix in device element format, as raw bytes, with helpers between float and its elements.
struct HostMatrix {
  Elem type;
  size_t n;
  std::vector<unsigned char> bytes;
  HostMatrix(Elem t, size_t count) : type(t), n(count), bytes(count * pd_cuda::elem_bytes(t)) {}
  float get(size_t i) const {
    if (type == Elem::F32) {
      float v;
      std::memcpy(&v, &bytes[4 * i], 4);
      return v;
    }
    uint16_t bits;
    std::memcpy(&bits, &bytes[2 * i], 2);
    return type == Elem::BF16 ? paddock::bf16_to_fp32(bits) : paddock::fp16_to_fp32(bits);
  }
  // Stores v rounded to the element type (round to nearest even).
  void set(size_t i, float v) {
    if (type == Elem::F32) {
      std::memcpy(&bytes[4 * i], &v, 4);
      return;
    }
    const uint16_t bits = type == Elem::BF16 ? paddock::fp32_to_bf16(v) : paddock::fp32_to_fp16(v);
    std::memcpy(&bytes[2 * i], &bits, 2);
  }
  void set_nan(size_t i) { set(i, std::nanf("")); }
};

// rows x cols at stride ld (>= cols) after `shift` leading elements: random values in [-1, 1]
// in the valid area, NaN in the padding and the shift.
HostMatrix random_matrix(Elem t, int rows, int cols, int64_t ld, int shift, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  HostMatrix h(t, (size_t)shift + (size_t)rows * ld);
  for (size_t i = 0; i < h.n; i++) h.set_nan(i);
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++) h.set(shift + (size_t)r * ld + c, u(rng));
  return h;
}

// Normalized-MSE bound for an output type. Products of BF16/F16 values are exact in F32, so
// F32 output differs from the double reference only by F32 summation (relative ~2^-24 a term:
// nmse ~1e-12); 1e-8 still fails for one dropped or doubled k term (nmse >= 1/K) or an operand
// wrongly rounded to 16 bits (~1e-6). BF16 output adds its rounding (2^-9 relative: ~1e-6);
// F16 (2^-12: ~2e-8).
double nmse_bound(Elem c) { return c == Elem::F32 ? 1e-8 : c == Elem::BF16 ? 1e-5 : 1e-6; }

void run_case(const Case& k, std::mt19937& rng) {
  const bool a_kmajor = k.op == GemmOp::TN, b_kmajor = k.op != GemmOp::NT;  // stored [K rows][...]
  const int a_rows = a_kmajor ? k.K : k.M, a_cols = a_kmajor ? k.M : k.K;
  const int b_rows = b_kmajor ? k.K : k.N, b_cols = b_kmajor ? k.N : k.K;
  const int64_t lda = a_cols + k.pad_a, ldb = b_cols + k.pad_b, ldc = k.N + k.pad_c;
  const HostMatrix a = random_matrix(k.ab, a_rows, a_cols, lda, k.shift_a, rng);
  const HostMatrix b = random_matrix(k.ab, b_rows, b_cols, ldb, 0, rng);
  // C: random where beta reads it; NaN where it must not be read; padding gets a sentinel.
  HostMatrix c0 = random_matrix(k.c, k.M, k.N, ldc, 0, rng);
  const float sentinel = -768.0f;  // exact in every type
  for (int r = 0; r < k.M; r++) {
    for (int col = 0; col < k.N && k.beta == 0.0f; col++) c0.set_nan((size_t)r * ldc + col);
    for (int col = k.N; col < ldc; col++) c0.set((size_t)r * ldc + col, sentinel);
  }

  std::vector<double> want((size_t)k.M * k.N);
  for (int m = 0; m < k.M; m++)
    for (int n = 0; n < k.N; n++) {
      double s = 0;
      for (int kk = 0; kk < k.K; kk++) {
        const double av = a.get(k.shift_a + (a_kmajor ? (size_t)kk * lda + m : (size_t)m * lda + kk));
        const double bv = b.get(b_kmajor ? (size_t)kk * ldb + n : (size_t)n * ldb + kk);
        s += av * bv;
      }
      const double cv = k.beta != 0.0f ? (double)k.beta * c0.get((size_t)m * ldc + n) : 0.0;
      want[(size_t)m * k.N + n] = (double)k.alpha * s + cv;
    }

  cudatest::DeviceArray<unsigned char> da(a.bytes.size()), db(b.bytes.size()), dc(c0.bytes.size());
  da.upload(a.bytes);
  db.upload(b.bytes);
  dc.upload(c0.bytes);
  pd_cuda::GemmDesc d;
  d.op = k.op;
  d.ab = k.ab;
  d.c = k.c;
  d.M = k.M;
  d.N = k.N;
  d.K = k.K;
  d.A = da.get() + (size_t)k.shift_a * pd_cuda::elem_bytes(k.ab);
  d.lda = lda;
  d.B = db.get();
  d.ldb = ldb;
  d.C = dc.get();
  d.ldc = ldc;
  d.alpha = k.alpha;
  d.beta = k.beta;
  pd_cuda::gemm_with_tiles(d, k.tiles, nullptr);
  CHECK(pd_gpu::check_launch("gemm") && pd_gpu::synchronize());

  HostMatrix got(k.c, c0.n);
  got.bytes = dc.download();
  std::vector<float> got_valid((size_t)k.M * k.N);
  bool padding_intact = true;
  for (int r = 0; r < k.M; r++) {
    for (int col = 0; col < k.N; col++) got_valid[(size_t)r * k.N + col] = got.get((size_t)r * ldc + col);
    for (int col = k.N; col < ldc; col++) padding_intact &= got.get((size_t)r * ldc + col) == sentinel;
  }
  char what[160];
  std::snprintf(what, sizeof what, "%s %s->%s %dx%dx%d ld+%d/%d/%d%s a%g b%g %s", op_name(k.op), elem_name(k.ab),
                elem_name(k.c), k.M, k.N, k.K, k.pad_a, k.pad_b, k.pad_c, k.shift_a ? " A+1" : "", k.alpha,
                k.beta, k.ab == Elem::F32 ? "simt" : tiles_name(k.tiles));
  cudatest::check_close(what, got_valid, want, nmse_bound(k.c));
  CHECK_MSG(padding_intact, "%s: C's row padding was written", what);
  CHECK_MSG(da.guards_intact() && db.guards_intact() && dc.guards_intact(), "%s: write outside a buffer", what);
}

std::vector<Case> cases_for(GemmOp op, bool emulated) {
  const Elem BF = Elem::BF16, H = Elem::F16, F = Elem::F32;
  const GemmTiles L = GemmTiles::Large128x128, S = GemmTiles::Small64x64;
  std::vector<Case> v = {
      // One whole large tile, 8-aligned strides: the cp.async path, two k-tiles.
      {op, BF, F, 128, 128, 64, 0, 0, 0, 1.0f, 0.0f, L},
      // Four small tiles, F16 in, BF16 out.
      {op, H, BF, 128, 128, 64, 0, 0, 0, 1.0f, 0.0f, S},
      // Ragged everywhere with the natural strides (172, 37: the element loader where odd).
      {op, BF, BF, 37, 172, 72, 0, 0, 0, 1.0f, 0.0f, S},
      // The same ragged shape with strides padded to 8: cp.async plus straddling chunks.
      {op, H, F, 37, 172, 72, op == GemmOp::TN ? 3 : 0, op == GemmOp::NT ? 0 : 4, 4, 1.0f, 0.0f, GemmTiles::Auto},
      // K = 20 (< one k-tile, not a multiple of 8), odd strides, alpha and beta, large tiles.
      {op, BF, F, 70, 40, 20, 3, 5, 1, 0.5f, 0.75f, L},
      // Ragged large tile with 8-aligned strides, F16 output accumulated with beta.
      {op, BF, H, 130, 136, 40, 8, 8, 2, -1.5f, 0.5f, L},
      // A's base off 16-byte alignment though lda is a multiple of 8: must fall back.
      {op, H, F, 64, 64, 48, 0, 0, 0, 1.0f, 0.0f, S, 1},
      // Several tiles and k-tiles: the 3-stage ring wraps, grouped block order, ragged last tiles.
      {op, BF, F, 300, 260, 200, 0, 0, 0, 1.0f, 0.0f, L},
      {op, H, BF, 600, 130, 136, 8, 0, 0, 1.0f, 0.0f, S},
      // F32 operands on CUDA cores: ragged, and strided with alpha and beta over several k-steps.
      {op, F, F, 37, 172, 72},
      {op, F, F, 130, 65, 40, 3, 2, 5, 2.0f, -1.0f},
  };
  if (!emulated) {  // a real device: full waves of both tiles, long K, the Auto choice
    v.push_back({op, BF, F, 1024, 1024, 1024});
    v.push_back({op, H, BF, 777, 1500, 1000, 0, 4, 0, 1.0f, 1.0f});
    v.push_back({op, BF, F, 2048, 2048, 256, 0, 0, 0, 1.0f, 0.0f, L});
    v.push_back({op, F, F, 1000, 16, 2048});  // a LoRA-shaped rank product
  }
  return v;
}

// Throughput of a large aligned BF16 product (printed for reference, not checked).
void report_speed(GemmOp op) {
  const int64_t n = 4096;
  cudatest::DeviceArray<pd_bf16> a(n * n), b(n * n);
  cudatest::DeviceArray<float> c(n * n);
  pd_gpu::memset_zero(a.get(), n * n * 2);
  pd_gpu::memset_zero(b.get(), n * n * 2);
  pd_cuda::GemmDesc d;
  d.op = op;
  d.M = d.N = d.K = n;
  d.A = a.get();
  d.B = b.get();
  d.C = c.get();
  d.lda = d.ldb = d.ldc = n;
  pd_cuda::gemm(d, nullptr);
  pd_gpu::Timer t;
  double ms = 0;
  const int reps = 10;
  pd_gpu::timer_start(&t);
  for (int i = 0; i < reps; i++) pd_cuda::gemm(d, nullptr);
  pd_gpu::timer_stop_ms(&t, &ms);
  std::printf("  speed %s bf16->f32 4096^3: %.3f ms, %.1f TFLOP/s\n", op_name(op), ms / reps,
              pd_cuda::gemm_flops(d) * reps / (ms * 1e9));
}

}  // namespace

int main(int, char**) {
  cudatest::require_device("test_cuda_gemm");
  const bool emulated = cudatest::emulated();
  std::mt19937 rng(1234);
  for (GemmOp op : {GemmOp::NT, GemmOp::NN, GemmOp::TN})
    for (const Case& k : cases_for(op, emulated)) run_case(k, rng);
  if (!emulated)
    for (GemmOp op : {GemmOp::NT, GemmOp::NN, GemmOp::TN}) report_speed(op);
  return pdtest::finish("test_cuda_gemm");
}
