// The Hopper wgmma GEMM (gemm_wgmma.h), forced through gemm_with_tiles(GemmTiles::Wgmma), in each
// layout (NT; NN and TN, whose MN-major operands wgmma reads transposed) with gemm_test_case.h's
// checks: against a double-precision host product of the same rounded inputs, NaN in operand
// padding, NaN in C when beta is 0, a sentinel in C's row padding, guard bands. Per layout:
// full tiles, ragged M/N/K (1, 17, 100, 200, ...), a K that turns the 4-stage ring more than
// once, alpha/beta, F32/BF16/F16 output, F16 operands, odd strides and a misaligned base (the
// element loader). Also the probe's self-test (all three layouts).
// Emulator only (the emulated primitives are the subject): the descriptor encoding and the
// K-major and MN-major layout decoding against hand-computed addresses for each swizzle mode,
// and the deferred execution of wgmma groups (wait_group 1 completes only the older group; an
// operand overwritten before the wait is what the product sees, as on hardware).
// On a real GPU the test skips unless the device is sm_90 and the probe enabled wgmma.
#include <cstdint>
#include <random>

#include "backend/cuda/gemm.h"
#include "backend/cuda/gemm_wgmma.h"
#include "cuda_testing.h"
#include "gemm_test_case.h"
#include "gemm_test_matrix.h"

#if defined(PADDOCK_CUDA_EMU)
#include "backend/cuda/gpu_wgmma.cuh"
#endif

using cudatest::GemmCase;
using pd_cuda::Elem;
using pd_cuda::GemmOp;

namespace {

// The same shapes for every layout (op).
std::vector<GemmCase> cases_for(GemmOp op, bool emulated) {
  const Elem BF = Elem::BF16, H = Elem::F16, F = Elem::F32;
  const pd_cuda::GemmTiles W = pd_cuda::GemmTiles::Wgmma;
  std::vector<GemmCase> v = {
      {op, BF, F, 128, 128, 64, 0, 0, 0, 1.0f, 0.0f, W},          // one whole block tile, one k-tile
      {op, BF, F, 256, 128, 320, 0, 0, 0, 1.0f, 0.0f, W},         // two blocks, five k-tiles: the ring wraps
      {op, BF, F, 1, 1, 1, 0, 0, 0, 1.0f, 0.0f, W},               // the smallest product
      {op, BF, BF, 17, 100, 200, 0, 0, 0, 1.0f, 0.0f, W},         // ragged M, N, K (K not a multiple of 64)
      {op, H, F, 200, 264, 100, 0, 0, 0, 1.0f, 0.0f, W},          // F16 operands, ragged over 2 x 3 blocks
      {op, BF, H, 264, 17, 264, 0, 0, 3, 1.0f, 0.0f, W},          // F16 output, C row padding
      {op, BF, F, 130, 140, 72, 8, 8, 2, 0.5f, -1.5f, W},         // alpha and beta, strided A/B (cp.async)
      {op, H, BF, 100, 136, 40, 0, 0, 0, -1.0f, 0.75f, W},        // beta with BF16 C
      {op, BF, F, 70, 129, 100, 3, 5, 1, 1.0f, 0.0f, W},          // odd strides: the element loader
      {op, H, F, 64, 64, 48, 0, 0, 0, 1.0f, 0.0f, W, 1},          // A off 16-byte alignment: element loader
  };
  if (!emulated) {  // a real Hopper: full waves and long K
    v.push_back({op, BF, F, 2048, 2048, 1024, 0, 0, 0, 1.0f, 0.0f, W});
    v.push_back({op, H, BF, 777, 1500, 1000, 0, 4, 0, 1.0f, 1.0f, W});
  }
  return v;
}

#if defined(PADDOCK_CUDA_EMU)
// The descriptor bits and the decoded element addresses, worked out by hand from the layout
// rules (gpu_wgmma.cuh): 16-byte chunk index XOR (address bits 7..) for the swizzles.
void check_layout_decoding() {
  const uint64_t d128 = pd_wgmma_desc(1024, 16, 1024, PdSwizzle::B128);
  CHECK(d128 == (64ull | (1ull << 16) | (64ull << 32) | (1ull << 62)));
  CHECK(pd_wgmma_desc(0x3FFF0 + 0x40000, 0, 0, PdSwizzle::None) == 0x3FFFull);  // 18-bit window
  // 128-byte swizzle, rows 128 bytes apart, 8-row groups 1024 apart.
  CHECK(pd_emu::wgmma_element_address(d128, 0, 0, 2, false) == 1024);
  CHECK(pd_emu::wgmma_element_address(d128, 9, 10, 2, false) == 2180);   // row 9: chunk 1 ^ 1 = 0
  CHECK(pd_emu::wgmma_element_address(d128, 7, 15, 2, false) == 2030);   // row 7: chunk 1 ^ 7 = 6
  const uint64_t d128_k16 = pd_wgmma_desc(1024 + 32, 16, 1024, PdSwizzle::B128);  // second k16 step
  CHECK(pd_emu::wgmma_element_address(d128_k16, 9, 2, 2, false) == 2228);  // K 18: chunk 2 ^ 1 = 3
  // 64-byte swizzle: rows 64 bytes apart, chunk ^= (row / 2) % 4.
  const uint64_t d64 = pd_wgmma_desc(0, 16, 512, PdSwizzle::B64);
  CHECK(pd_emu::wgmma_element_address(d64, 5, 9, 2, false) == 370);   // 5*64 + (1^2)*16 + 2
  CHECK(pd_emu::wgmma_element_address(d64, 12, 3, 2, false) == 806);  // 512 + 4*64 + (0^2)*16 + 6
  // 32-byte swizzle: rows 32 bytes apart, chunk ^= (row / 4) % 2.
  const uint64_t d32 = pd_wgmma_desc(0, 16, 256, PdSwizzle::B32);
  CHECK(pd_emu::wgmma_element_address(d32, 6, 12, 2, false) == 200);  // 6*32 + (1^1)*16 + 8
  CHECK(pd_emu::wgmma_element_address(d32, 2, 12, 2, false) == 88);   // 2*32 + 16 + 8
  // No swizzle: core matrices of 8 x 16 bytes; K neighbours LBO apart, 8-row groups SBO apart.
  const uint64_t dn = pd_wgmma_desc(256, 128, 256, PdSwizzle::None);
  CHECK(pd_emu::wgmma_element_address(dn, 10, 9, 2, false) == 674);  // 256 + 256 + 2*16 + 128 + 2
  CHECK(pd_emu::wgmma_element_address(dn, 7, 7, 2, false) == 256 + 7 * 16 + 14);

  // MN-major (imm-trans 1), element (mn, k). 128-byte swizzle: rows are K (128 bytes: 64 M/N
  // values), 8-row atoms SBO apart in K, 64-wide M/N blocks LBO apart; chunk ^= k % 8.
  const uint64_t t128 = pd_wgmma_desc(2048, 8192, 1024, PdSwizzle::B128);
  CHECK(pd_emu::wgmma_element_address(t128, 0, 0, 2, true) == 2048);
  CHECK(pd_emu::wgmma_element_address(t128, 9, 3, 2, true) == 2466);    // 2048 + 3*128 + (1^3)*16 + 2
  CHECK(pd_emu::wgmma_element_address(t128, 70, 12, 2, true) == 11852);  // 2048 + 8192 + 1024 + 4*128 + (0^4)*16 + 12
  const uint64_t t128_k16 = pd_wgmma_desc(2048 + 2048, 8192, 1024, PdSwizzle::B128);  // second k16 step
  CHECK(pd_emu::wgmma_element_address(t128_k16, 1, 15, 2, true) == 6130);  // 4096 + 1024 + 7*128 + (0^7)*16 + 2
  // 64-byte swizzle: rows 64 bytes (32 values), chunk ^= (k % 8 / 2) % 4.
  const uint64_t t64 = pd_wgmma_desc(0, 1024, 512, PdSwizzle::B64);
  CHECK(pd_emu::wgmma_element_address(t64, 40, 11, 2, true) == 1728);  // 1024 + 512 + 3*64 + (1^1)*16 + 0
  // 32-byte swizzle: rows 32 bytes (16 values), chunk ^= (k % 8 / 4) % 2.
  const uint64_t t32 = pd_wgmma_desc(0, 256, 2048, PdSwizzle::B32);
  CHECK(pd_emu::wgmma_element_address(t32, 21, 6, 2, true) == 474);  // 256 + 6*32 + (0^1)*16 + 10
  // No swizzle: core matrices of 8 K rows x 16 bytes (8 M/N values); M/N neighbours SBO apart,
  // K neighbours LBO apart.
  const uint64_t tn = pd_wgmma_desc(256, 1024, 128, PdSwizzle::None);
  CHECK(pd_emu::wgmma_element_address(tn, 10, 9, 2, true) == 1428);  // 256 + 128 + 1024 + 16 + 4
}

// One warpgroup, m64n64k16 from unswizzled operands (A at 0, B at 2048): group 1 computes D = A1 B
// over NaN accumulators (scale-d 0 must ignore them), group 2 E = 1 + A B. After wait_group 1
// only group 1 may have run; then A is overwritten with A2 before wait_group 0, so E must come
// out as 1 + A2 B: the data present at the wait.
constexpr uint32_t kLbo = 128, kSbo = 256, kOperandBytes = 2048;
uint32_t interleaved_offset(int row, int k) { return (row / 8) * kSbo + (row % 8) * 16 + (k / 8) * kLbo + (k % 8) * 2; }

void deferral_kernel(const uint16_t* a1, const uint16_t* a2, const uint16_t* b, float* early, float* late, int* waited_one) {
  PD_DYNAMIC_SMEM(unsigned char, smem);
  const int tid = threadIdx.x;
  auto put = [&](uint32_t base, const uint16_t* src) {
    for (int i = tid; i < 64 * 16; i += 128) std::memcpy(smem + base + interleaved_offset(i / 16, i % 16), &src[i], 2);
  };
  put(0, a1);
  put(kOperandBytes, b);
  pd_fence_proxy_async_smem();
  __syncthreads();
  const uint64_t da = pd_wgmma_desc(pd_wgmma_smem_addr(smem), kLbo, kSbo, PdSwizzle::None);
  const uint64_t db = pd_wgmma_desc(pd_wgmma_smem_addr(smem + kOperandBytes), kLbo, kSbo, PdSwizzle::None);
  float d[32], e[32];
  for (int i = 0; i < 32; i++) {
    d[i] = std::nanf("");
    e[i] = 1.0f;
  }
  pd_wgmma_fence();
  pd_wgmma_m64k16<64, true>(d, da, db, false);
  pd_wgmma_commit();
  pd_wgmma_m64k16<64, true>(e, da, db, true);
  pd_wgmma_commit();
  pd_wgmma_wait<1>();
  bool untouched = true;
  for (int i = 0; i < 32; i++) untouched &= e[i] == 1.0f;
  waited_one[tid] = untouched && !std::isnan(d[0]);
  __syncthreads();
  put(0, a2);
  pd_fence_proxy_async_smem();
  __syncthreads();
  pd_wgmma_wait<0>();
  const int w = tid / 32, g = (tid % 32) / 4, q = tid % 4;
  for (int j = 0; j < 8; j++)
    for (int h = 0; h < 2; h++)
      for (int c = 0; c < 2; c++) {
        const int at = (16 * w + g + 8 * h) * 64 + 8 * j + 2 * q + c;
        early[at] = d[4 * j + 2 * h + c];
        late[at] = e[4 * j + 2 * h + c];
      }
}

void check_deferral(std::mt19937& rng) {
  const cudatest::HostMatrix a1 = cudatest::random_matrix(Elem::BF16, 64, 16, 16, 0, rng);
  const cudatest::HostMatrix a2 = cudatest::random_matrix(Elem::BF16, 64, 16, 16, 0, rng);
  const cudatest::HostMatrix b = cudatest::random_matrix(Elem::BF16, 64, 16, 16, 0, rng);
  cudatest::DeviceArray<unsigned char> d_a1(a1.bytes.size()), d_a2(a2.bytes.size()), d_b(b.bytes.size());
  d_a1.upload(a1.bytes);
  d_a2.upload(a2.bytes);
  d_b.upload(b.bytes);
  cudatest::DeviceArray<float> early(64 * 64), late(64 * 64);
  cudatest::DeviceArray<int> waited_one(128);
  pd_launch(deferral_kernel, dim3(1), dim3(128), 2 * kOperandBytes, nullptr, (const uint16_t*)d_a1.get(),
            (const uint16_t*)d_a2.get(), (const uint16_t*)d_b.get(), early.get(), late.get(), waited_one.get());
  CHECK(pd_gpu::check_launch("wgmma deferral") && pd_gpu::synchronize());
  std::vector<double> want_early(64 * 64), want_late(64 * 64);
  for (int m = 0; m < 64; m++)
    for (int n = 0; n < 64; n++) {
      double s1 = 0, s2 = 0;
      for (int k = 0; k < 16; k++) {
        s1 += (double)a1.get(m * 16 + k) * b.get(n * 16 + k);
        s2 += (double)a2.get(m * 16 + k) * b.get(n * 16 + k);
      }
      want_early[m * 64 + n] = s1;
      want_late[m * 64 + n] = 1.0 + s2;
    }
  cudatest::check_close("deferral: group 1 (scale-d 0 over NaN)", early.download(), want_early, 1e-10);
  cudatest::check_close("deferral: group 2 sees the operand at wait time", late.download(), want_late, 1e-10);
  int all_waited_one = 1;
  for (int v : waited_one.download()) all_waited_one &= v;
  CHECK_MSG(all_waited_one, "wait_group 1 completed the newest group too (or not the oldest)");
  CHECK(early.guards_intact() && late.guards_intact());
}
#endif

}  // namespace

int main(int argc, char** argv) {
  cudatest::require_device("test_cuda_wgmma");
  const bool emulated = cudatest::emulated();
  std::printf("  wgmma: %s\n", pd_cuda::wgmma_status().c_str());
  if (!emulated && !pd_cuda::wgmma_enabled()) {
    std::printf("test_cuda_wgmma: SKIPPED (wgmma path off: %s)\n", pd_cuda::wgmma_status().c_str());
    return pdtest::kSkip;
  }
  std::mt19937 rng(20241124);
#if defined(PADDOCK_CUDA_EMU)
  CHECK_MSG(!pd_cuda::wgmma_enabled(), "the emulated sm_80 device must not offer wgmma to Auto");
  check_layout_decoding();
  check_deferral(rng);
#endif
  std::string why;
  CHECK_MSG(pd_cuda::wgmma_self_test(&why), "self-test: %s", why.c_str());
  for (GemmOp op : {GemmOp::NT, GemmOp::NN, GemmOp::TN})
    for (const GemmCase& k : cases_for(op, emulated)) cudatest::check_gemm_case(k, rng);
  return pdtest::finish("test_cuda_wgmma");
}
