// pd_cuda::gemm_splitk (deterministic split-K for thin products) on the shapes LoRA training
// runs, shrunk and made ragged (M, N, K not multiples of any tile; K not a multiple of the
// 32-wide slices): dA [r, n_in] += dz^T x (TN), dB [n_out, r] += dy^T z (TN), dz = s dy B (NN,
// BF16 out, alpha != 1), z = s x A^T (NT), each with F32 or BF16 C, beta 0 (C starts as NaN:
// it must not be read) or 1. Checked against a double product of the same BF16 inputs, against
// the unsplit gemm(), and bitwise against a second run (no atomics, fixed reduce order); guard
// bands around C, and in the emulator the launch count proves the split really ran.
// Also the slice chooser: no split when the tiles fill the SMs or K is short, capped by the
// workspace.
#include <cstdint>
#include <cstring>
#include <limits>

#include "backend/cuda/gemm_splitk.h"
#include "core/dtype.h"
#include "cuda_testing.h"
#if defined(PADDOCK_CUDA_EMU)
#include "backend/cuda/emu/emulator.h"
#endif

using pd_cuda::Elem;
using pd_cuda::GemmDesc;
using pd_cuda::GemmOp;

namespace {

uint32_t lcg(uint32_t* s) {
  *s = *s * 1664525u + 1013904223u;
  return *s >> 8;
}

// BF16 bits of uniform values in [-1, 1), and their exact floats.
std::vector<uint16_t> random_bf16(size_t n, uint32_t seed, std::vector<double>* exact) {
  std::vector<uint16_t> v(n);
  exact->resize(n);
  for (size_t i = 0; i < n; i++) {
    v[i] = paddock::fp32_to_bf16((float)(lcg(&seed) % 20001) / 10000.0f - 1.0f);
    (*exact)[i] = paddock::bf16_to_fp32(v[i]);
  }
  return v;
}

struct Case {
  const char* name;
  GemmOp op;
  int64_t M, N, K;
  Elem c;
  float alpha, beta;
  int slices;
};

// C as floats, whatever its element type.
std::vector<float> read_c(const Case& k, const cudatest::DeviceArray<float>& c32,
                          const cudatest::DeviceArray<uint16_t>& c16) {
  if (k.c == Elem::F32) return c32.download();
  std::vector<float> out;
  for (uint16_t b : c16.download()) out.push_back(paddock::bf16_to_fp32(b));
  return out;
}

// Fills C with `init` (as its element type) and runs either the split or the plain product.
std::vector<float> run(const Case& k, const GemmDesc& base, bool split, const std::vector<float>& init,
                       float* workspace, bool* guards_ok) {
  cudatest::DeviceArray<float> c32(k.c == Elem::F32 ? init.size() : 1);
  cudatest::DeviceArray<uint16_t> c16(k.c == Elem::BF16 ? init.size() : 1);
  if (k.c == Elem::F32) {
    c32.upload(init);
  } else {
    std::vector<uint16_t> b;
    for (float v : init) b.push_back(paddock::fp32_to_bf16(v));
    c16.upload(b);
  }
  GemmDesc d = base;
  d.C = k.c == Elem::F32 ? (void*)c32.get() : (void*)c16.get();
  if (split)
    pd_cuda::gemm_splitk(d, k.slices, workspace, nullptr);
  else
    pd_cuda::gemm(d, nullptr);
  CHECK(pd_gpu::synchronize());
  *guards_ok = c32.guards_intact() && c16.guards_intact();
  return read_c(k, c32, c16);
}

void check_case(const Case& k) {
  std::printf("%s: %s M %lld N %lld K %lld, %d slices, C %s, alpha %g beta %g\n", k.name,
              k.op == GemmOp::NT ? "NT" : k.op == GemmOp::NN ? "NN" : "TN", (long long)k.M, (long long)k.N,
              (long long)k.K, k.slices, k.c == Elem::F32 ? "f32" : "bf16", k.alpha, k.beta);
  // Layouts (gemm.h): NT A [M][K] B [N][K]; NN A [M][K] B [K][N]; TN A [K][M] B [K][N].
  const bool a_k_major = k.op == GemmOp::TN, b_k_major = k.op != GemmOp::NT;
  std::vector<double> a, b;
  const std::vector<uint16_t> ha = random_bf16((size_t)(k.M * k.K), 11 + (uint32_t)k.M, &a);
  const std::vector<uint16_t> hb = random_bf16((size_t)(k.N * k.K), 23 + (uint32_t)k.N, &b);
  cudatest::DeviceArray<uint16_t> da(ha.size()), db(hb.size());
  da.upload(ha);
  db.upload(hb);
  std::vector<float> init((size_t)(k.M * k.N));
  uint32_t seed = 5;
  for (float& v : init)
    v = k.beta != 0.0f ? (float)(lcg(&seed) % 2001) / 1000.0f - 1.0f : std::numeric_limits<float>::quiet_NaN();
  std::vector<double> want(init.size());
  for (int64_t i = 0; i < k.M; i++)
    for (int64_t j = 0; j < k.N; j++) {
      double acc = 0;
      for (int64_t p = 0; p < k.K; p++)
        acc += a[(size_t)(a_k_major ? p * k.M + i : i * k.K + p)] * b[(size_t)(b_k_major ? p * k.N + j : j * k.K + p)];
      const double c0 = k.beta != 0.0f ? (double)init[(size_t)(i * k.N + j)] : 0.0;
      want[(size_t)(i * k.N + j)] = k.alpha * acc + k.beta * c0;
    }

  GemmDesc d;
  d.op = k.op;
  d.ab = Elem::BF16;
  d.c = k.c;
  d.M = k.M, d.N = k.N, d.K = k.K;
  d.A = da.get(), d.lda = a_k_major ? k.M : k.K;
  d.B = db.get(), d.ldb = b_k_major ? k.N : k.K;
  d.ldc = k.N;
  d.alpha = k.alpha, d.beta = k.beta;
  cudatest::DeviceArray<float> ws((size_t)(k.slices * k.M * k.N));
  bool guards = false;
#if defined(PADDOCK_CUDA_EMU)
  const uint64_t launches0 = pd_emu::launch_count();
#endif
  const std::vector<float> split = run(k, d, true, init, ws.get(), &guards);
#if defined(PADDOCK_CUDA_EMU)
  // one gemm per slice (each a single launch at these sizes) plus the reduce
  const uint64_t launches = pd_emu::launch_count() - launches0;
  std::printf("  %llu launches\n", (unsigned long long)launches);
  CHECK(launches == (uint64_t)k.slices + 1);
#endif
  CHECK(guards);
  CHECK(ws.guards_intact());
  const std::vector<float> again = run(k, d, true, init, ws.get(), &guards);
  const std::vector<float> plain = run(k, d, false, init, ws.get(), &guards);
  // F32 C: only accumulation order differs (2^-24 relative per add); BF16 C: one rounding (2^-9).
  const double bound = k.c == Elem::F32 ? 1e-10 : 2e-5;
  cudatest::check_close("split vs double reference", split, want, bound);
  cudatest::check_close("split vs unsplit gemm()", split, plain, bound);
  const bool same_bits = split.size() == again.size() &&
                         std::memcmp(split.data(), again.data(), split.size() * sizeof(float)) == 0;
  std::printf("  second run bitwise identical: %s\n", same_bits ? "yes" : "NO");
  CHECK(same_bits);
}

void check_slice_choice() {
  std::printf("slice choice (132 SMs)\n");
  GemmDesc d;
  d.op = GemmOp::TN;
  d.M = 16, d.N = 2048, d.K = 1024;  // LoRA dA at r 16, n_in 2048, T 1024: 32 tiles of 64x64
  const int64_t ws = pd_cuda::splitk_workspace_elements(d.M, d.N);
  CHECK(pd_cuda::splitk_slices(d, 132, ws) == 4);   // 32 x 4 = 128 blocks
  d.N = 512;                                          // 8 tiles: capped at kSplitKMaxSlices
  CHECK(pd_cuda::splitk_slices(d, 132, ws) == pd_cuda::kSplitKMaxSlices);
  CHECK(pd_cuda::splitk_slices(d, 132, 3 * d.M * d.N) == 3);  // a workspace of three slabs
  d.K = 200;                                          // short K: one slice of >= 128
  CHECK(pd_cuda::splitk_slices(d, 132, ws) == 1);
  d.K = 1024, d.M = 1024, d.N = 1024;                 // 256 tiles already fill the SMs
  CHECK(pd_cuda::splitk_slices(d, 132, pd_cuda::splitk_workspace_elements(d.M, d.N)) == 1);
  d.M = 16, d.N = 2048, d.ab = Elem::F32;             // CUDA-core operands are never split
  CHECK(pd_cuda::splitk_slices(d, 132, ws) == 1);
}

}  // namespace

int main() {
  cudatest::require_device("test_cuda_gemm_splitk");
  check_slice_choice();
  check_case({"LoRA dA += dz^T x", GemmOp::TN, 16, 200, 301, Elem::F32, 1.0f, 1.0f, 3});
  check_case({"LoRA dB += dy^T z", GemmOp::TN, 150, 4, 300, Elem::F32, 1.0f, 1.0f, 4});
  check_case({"LoRA dz = s dy B", GemmOp::NN, 45, 4, 470, Elem::BF16, 0.5f, 0.0f, 5});
  check_case({"LoRA z = s x A^T", GemmOp::NT, 37, 12, 230, Elem::BF16, 2.0f, 0.0f, 2});
  check_case({"F32 C, beta 0, ragged", GemmOp::NN, 70, 66, 100, Elem::F32, 1.0f, 0.0f, 4});
  return pdtest::finish("test_cuda_gemm_splitk");
}
