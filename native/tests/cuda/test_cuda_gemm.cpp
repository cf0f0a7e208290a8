// pd_cuda::gemm against a double-precision host product of the same (already rounded) inputs,
// so the only differences left are F32 accumulation order and the output's rounding. Covered:
// the three layouts NT/NN/TN; BF16/F16 operands (tensor cores, both block tiles) with F32, BF16
// and F16 output, and F32 operands (CUDA cores); tile-aligned and ragged M/N/K (stories260K's
// hidden 172); K not a multiple of 8; strided leading dimensions, misaligned bases (the element
// loader) and 8-aligned ones (cp.async); alpha != 1 and beta != 0.
// Honesty traps (gemm_test_case.h, shared with test_cuda_wgmma): operand padding (ld beyond the
// row) holds NaN, so reading it shows; with beta 0, C starts as NaN (it must not be read); C's
// padding and guard bands around every buffer must come back untouched.
#include <random>
#include <vector>

#include "backend/cuda/gemm.h"
#include "cuda_testing.h"
#include "gemm_test_case.h"

using cudatest::GemmCase;
using pd_cuda::Elem;
using pd_cuda::GemmOp;
using pd_cuda::GemmTiles;

namespace {

std::vector<GemmCase> cases_for(GemmOp op, bool emulated) {
  const Elem BF = Elem::BF16, H = Elem::F16, F = Elem::F32;
  const GemmTiles L = GemmTiles::Large128x128, S = GemmTiles::Small64x64;
  std::vector<GemmCase> v = {
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
  std::printf("  speed %s bf16->f32 4096^3: %.3f ms, %.1f TFLOP/s\n", cudatest::gemm_op_name(op), ms / reps,
              pd_cuda::gemm_flops(d) * reps / (ms * 1e9));
}

}  // namespace

int main(int, char**) {
  cudatest::require_device("test_cuda_gemm");
  const bool emulated = cudatest::emulated();
  std::mt19937 rng(1234);
  for (GemmOp op : {GemmOp::NT, GemmOp::NN, GemmOp::TN})
    for (const GemmCase& k : cases_for(op, emulated)) cudatest::check_gemm_case(k, rng);
  if (!emulated)
    for (GemmOp op : {GemmOp::NT, GemmOp::NN, GemmOp::TN}) report_speed(op);
  return pdtest::finish("test_cuda_gemm");
}
