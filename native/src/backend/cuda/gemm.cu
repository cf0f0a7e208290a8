// Paddock's tensor-core GEMM (see gemm.h for the contract): mma.sync.m16n8k16 with BF16/F16
// operands and F32 accumulation, for the three layouts NT, NN and TN. F32 operands go to the
// CUDA-core kernel of gemm_simt.cu. On a sm_90 device whose wgmma probe passed, Auto sends the
// products (any layout) that would take the large tiles to the Hopper kernel (gemm_wgmma.cu).
//
// Design (the classic Ampere multistage GEMM, sm_80 and sm_90 alike):
// - Block tile BM x BN x 32, a 3-stage cp.async ring in dynamic shared memory: while the warps
//   multiply stage k, stages k+1 and k+2 are in flight; one __syncthreads per k-tile.
//   Large: 128x128, 8 warps as 2x4, each warp 64x32 (4x4 mma tiles, 64 accumulators a thread):
//   per k16 step a warp issues 4 + 2 ldmatrix.x4 for 16 mma, so shared-memory traffic stays well
//   under the tensor-core rate. 68 KiB of shared memory (the epilogue's F32 tile; the pipeline
//   needs 60), 2 blocks per SM.
//   Small: 64x64, 4 warps as 2x2 (32x32 each), 30 KiB; chosen when the large tiles would leave
//   SMs idle (M or N <= 64: LoRA/rank products, decode-sized batches, or fewer tiles than SMs).
// - Operand tiles keep their global layout in shared memory, padded by 16 bytes a row (no bank
//   conflicts); the K-major operands (A of TN, B of NN/TN) are fed with ldmatrix .trans
//   (gemm_tiles.cuh).
// - Loads: 16-byte cp.async when the operand's leading dimension is a multiple of 8 elements and
//   its base is 16-byte aligned (VEC); otherwise element loads. Ragged edges are zero-filled, so
//   the mma loop has no bounds checks. The epilogue stages the block's accumulators in shared
//   memory, then writes C row-contiguously (coalesced), checking bounds, applying alpha/beta and
//   converting to F32/BF16/F16, two adjacent columns per store.
// - Blocks are ordered in groups of 8 tile rows (grouped_tile) for L2 reuse on large products.
// Expected throughput: mma.sync without wgmma reaches ~60-70% of H100's dense BF16 peak (about
// 600-650 TFLOP/s of 990) and ~75-85% of A100's 312 on large, aligned products; ragged shapes
// and the element-load path are slower (they are for small models and odd strides).
#include "backend/cuda/gemm.h"

#include <cassert>

#include "backend/cuda/gemm_args.cuh"
#include "backend/cuda/gemm_simt.h"
#include "backend/cuda/gemm_tiles.cuh"
#include "backend/cuda/gemm_wgmma.h"
#include "backend/cuda/gpu_device.cuh"
#include "backend/cuda/probe.h"

namespace pd_cuda {
namespace gemm_detail {
namespace {

template <int BM_, int BN_, int WARPS_M_, int WARPS_N_>
struct MmaTiles {
  static constexpr int BM = BM_, BN = BN_, BK = 32, STAGES = 3;
  static constexpr int WARPS_M = WARPS_M_, WARPS_N = WARPS_N_, THREADS = 32 * WARPS_M * WARPS_N;
  static constexpr int WTM = BM / WARPS_M, WTN = BN / WARPS_N;  // one warp's output tile
  static constexpr int MT = WTM / 16, NT = WTN / 8;             // its m16 x n8 mma tiles
  static_assert(WTM % 16 == 0 && WTN % 16 == 0, "B fragments are loaded two n8 tiles at a time");
};
using LargeTiles = MmaTiles<128, 128, 2, 4>;
using SmallTiles = MmaTiles<64, 64, 2, 2>;

template <class CFG, GemmOp OP>
struct Operands {
  using A = OperandTile<OP != GemmOp::TN, CFG::BM, CFG::BK>;  // NT/NN: A [M][K]; TN: [K][M]
  using B = OperandTile<OP == GemmOp::NT, CFG::BN, CFG::BK>;  // NT: B [N][K]; NN/TN: [K][N]
  static constexpr size_t kPipelineBytes = (size_t)CFG::STAGES * (A::kElems + B::kElems) * sizeof(uint16_t);
  static constexpr size_t kEpilogueBytes = (size_t)CFG::BM * (CFG::BN + 8) * sizeof(float);
  static constexpr size_t kSmemBytes = kPipelineBytes > kEpilogueBytes ? kPipelineBytes : kEpilogueBytes;
};

template <class CFG, GemmOp OP, bool BF16, bool VEC>
__global__ void __launch_bounds__(CFG::THREADS) gemm_mma_kernel(GemmArgs p) {
  using TA = typename Operands<CFG, OP>::A;
  using TB = typename Operands<CFG, OP>::B;
  constexpr int BK = CFG::BK, STAGES = CFG::STAGES, MT = CFG::MT, NT = CFG::NT;
  PD_DYNAMIC_SMEM(uint16_t, smem);
  uint16_t* const sA = smem;
  uint16_t* const sB = smem + STAGES * TA::kElems;

  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int warp_m = (warp / CFG::WARPS_N) * CFG::WTM, warp_n = (warp % CFG::WARPS_N) * CFG::WTN;
  int tile_m, tile_n;
  grouped_tile(blockIdx.x, p.tiles_m, p.tiles_n, &tile_m, &tile_n);
  const int m0 = tile_m * CFG::BM, n0 = tile_n * CFG::BN;
  const int k_tiles = (p.K + BK - 1) / BK;

  auto load_stage = [&](int stage, int kt) {
    TA::template load<CFG::THREADS, VEC>(sA + stage * TA::kElems, p.A, p.lda, m0, kt * BK, p.M, p.K, tid);
    TB::template load<CFG::THREADS, VEC>(sB + stage * TB::kElems, p.B, p.ldb, n0, kt * BK, p.N, p.K, tid);
  };

  float acc[MT][NT][4];  // zeroed by unrolled loops: an aggregate initializer sends it to local memory
  PD_GEMM_UNROLL
  for (int i = 0; i < MT; i++) {
    PD_GEMM_UNROLL
    for (int j = 0; j < NT; j++) {
      PD_GEMM_UNROLL
      for (int r = 0; r < 4; r++) acc[i][j][r] = 0.0f;
    }
  }

  for (int s = 0; s < STAGES - 1; s++) {
    if (s < k_tiles) load_stage(s, s);
    pd_cp_async_commit();
  }
  const int a_lane = TA::a_lane_offset(lane), b_lane = TB::b_lane_offset(lane);
  for (int kt = 0; kt < k_tiles; kt++) {
    pd_cp_async_wait<STAGES - 2>();  // k-tile kt has landed (this thread's copies) ...
    __syncthreads();                 // ... everyone's; and stage (kt - 1) % STAGES is free again
    const int next = kt + STAGES - 1;
    if (next < k_tiles) load_stage(next % STAGES, next);
    pd_cp_async_commit();

    const uint16_t* a = sA + (kt % STAGES) * TA::kElems + a_lane;
    const uint16_t* b = sB + (kt % STAGES) * TB::kElems + b_lane;
    PD_GEMM_UNROLL
    for (int kk = 0; kk < BK; kk += 16) {
      uint32_t af[MT][4], bf[NT][2];
      PD_GEMM_UNROLL
      for (int i = 0; i < MT; i++) TA::fragment_x4(af[i], a + TA::at(warp_m + 16 * i, kk));
      PD_GEMM_UNROLL
      for (int j = 0; j < NT; j += 2) {
        uint32_t r[4];
        TB::fragment_x4(r, b + TB::at(warp_n + 8 * j, kk));
        bf[j][0] = r[0];
        bf[j][1] = r[1];
        bf[j + 1][0] = r[2];
        bf[j + 1][1] = r[3];
      }
      PD_GEMM_UNROLL
      for (int i = 0; i < MT; i++)
        PD_GEMM_UNROLL
        for (int j = 0; j < NT; j++) {
          if (BF16)
            pd_mma_16816_bf16(acc[i][j], af[i], bf[j], acc[i][j]);
          else
            pd_mma_16816_f16(acc[i][j], af[i], bf[j], acc[i][j]);
        }
    }
  }

  // Epilogue through shared memory (the pipeline's stages are free once every warp is past the
  // last k-tile): the warps park their accumulators in a [BM][BN + 8] F32 tile with fully
  // unrolled stores (keeps acc in registers), then the whole block writes C row by row, two
  // adjacent columns a thread, so the global stores are coalesced whatever the layout of a
  // warp's fragments. Accumulator layout: c0, c1 at (g, 2q), (g, 2q + 1); c2, c3 eight rows below.
  __syncthreads();
  float* const sC = reinterpret_cast<float*>(smem);
  constexpr int CS = CFG::BN + 8;  // +8 words: a half-warp's float2 stores hit 32 different banks
  const int g = lane >> 2, q = lane & 3;
  PD_GEMM_UNROLL
  for (int i = 0; i < MT; i++) {
    PD_GEMM_UNROLL
    for (int j = 0; j < NT; j++) {
      float* c = sC + (warp_m + 16 * i + g) * CS + warp_n + 8 * j + 2 * q;
      *reinterpret_cast<float2*>(c) = float2{acc[i][j][0], acc[i][j][1]};
      *reinterpret_cast<float2*>(c + 8 * CS) = float2{acc[i][j][2], acc[i][j][3]};
    }
  }
  __syncthreads();
  for (int e = 2 * tid; e < CFG::BM * CFG::BN; e += 2 * CFG::THREADS) {
    const int r = e / CFG::BN, c = e % CFG::BN;
    const float2 v = *reinterpret_cast<const float2*>(sC + r * CS + c);
    store_pair(p, m0 + r, n0 + c, v.x, v.y);
  }
}

// ---- host side: runtime choices -> one kernel instantiation ----

template <class CFG, GemmOp OP, bool BF16, bool VEC>
void launch(GemmArgs p, pd_stream_t s) {
  p.tiles_m = (int)pd_ceil_div(p.M, CFG::BM);
  p.tiles_n = (int)pd_ceil_div(p.N, CFG::BN);
  const dim3 grid((unsigned)((int64_t)p.tiles_m * p.tiles_n));
  pd_launch(gemm_mma_kernel<CFG, OP, BF16, VEC>, grid, dim3(CFG::THREADS), Operands<CFG, OP>::kSmemBytes, s, p);
}

template <class CFG, GemmOp OP>
void launch_op(const GemmArgs& p, bool bf16, bool vec, pd_stream_t s) {
  if (bf16)
    vec ? launch<CFG, OP, true, true>(p, s) : launch<CFG, OP, true, false>(p, s);
  else
    vec ? launch<CFG, OP, false, true>(p, s) : launch<CFG, OP, false, false>(p, s);
}

template <class CFG>
void launch_tiles(GemmOp op, const GemmArgs& p, bool bf16, bool vec, pd_stream_t s) {
  switch (op) {
    case GemmOp::NT: return launch_op<CFG, GemmOp::NT>(p, bf16, vec, s);
    case GemmOp::NN: return launch_op<CFG, GemmOp::NN>(p, bf16, vec, s);
    case GemmOp::TN: return launch_op<CFG, GemmOp::TN>(p, bf16, vec, s);
  }
}

// Device 0's properties, read once: its multiprocessors (the large tiles pay off from one wave
// up) and whether it is a Hopper (sm_90: the wgmma kernels' only target).
const pd_gpu::DeviceProps& device() {
  static const pd_gpu::DeviceProps props = [] {
    pd_gpu::DeviceProps p;
    std::string why;
    if (!pd_gpu::device_props(0, &p, &why)) p = pd_gpu::DeviceProps{};
    return p;
  }();
  return props;
}
int sm_count() { return device().sm_count > 0 ? device().sm_count : 108; }
bool hopper() { return device().cc_major == 9 && device().cc_minor == 0 && !device().emulated; }

}  // namespace
}  // namespace gemm_detail

void gemm_with_tiles(const GemmDesc& d, GemmTiles tiles, pd_stream_t s) {
  using namespace gemm_detail;
  assert(d.M >= 1 && d.N >= 1 && d.K >= 1);
  assert(d.M <= INT32_MAX && d.N <= INT32_MAX && d.K <= INT32_MAX);
  if (d.ab == Elem::F32) {
    assert(d.c == Elem::F32);
    gemm_f32_simt(d, s);
    return;
  }
  const GemmArgs p = make_gemm_args(d);
  const bool vec = gemm_vector_loads(d);
  const bool bf16 = d.ab == Elem::BF16;
  const bool wgmma_fits = gemm_wgmma_supported(d);
  assert(tiles != GemmTiles::Wgmma || wgmma_fits);
  if (tiles == GemmTiles::Wgmma && !wgmma_fits) tiles = GemmTiles::Auto;
  if (tiles == GemmTiles::Auto) {
    const int64_t large_tiles = pd_ceil_div(d.M, 128) * pd_ceil_div(d.N, 128);
    tiles = (d.M > 64 && d.N > 64 && large_tiles >= sm_count()) ? GemmTiles::Large128x128 : GemmTiles::Small64x64;
    if (tiles == GemmTiles::Large128x128 && wgmma_fits && hopper() && wgmma_enabled()) tiles = GemmTiles::Wgmma;
  }
  if (tiles == GemmTiles::Wgmma) {
    gemm_wgmma(d, s);
    return;
  }
  if (tiles == GemmTiles::Large128x128)
    launch_tiles<LargeTiles>(d.op, p, bf16, vec, s);
  else
    launch_tiles<SmallTiles>(d.op, p, bf16, vec, s);
}

void gemm(const GemmDesc& d, pd_stream_t s) { gemm_with_tiles(d, GemmTiles::Auto, s); }

}  // namespace pd_cuda
