// The Hopper tensor-core GEMM (see gemm_wgmma.h): NT, NN and TN products on wgmma.mma_async
// m64n128k16 with A and B read by the tensor cores straight from shared memory (gpu_wgmma.cuh).
// Compiled for sm_90a only (CMake puts *wgmma*.cu in a 90a-real object library).
//
// Design:
// - Block tile 128 x 128 x 64, two consumer warpgroups (256 threads), warpgroup w owns output
//   rows 64w..64w+63 and all 128 columns: 64 F32 accumulators a thread, one m64n128k16 per 16 of
//   K, four per k-tile.
// - Operand tiles keep their global layout with the 128-byte swizzle (TileLayout): a tile row is
//   64 contiguous values (128 bytes), its 16-byte chunk c stored at chunk c ^ (row % 8), 8-row
//   atoms 1024 bytes apart. K-major operands (A of NT/NN, B of NT: rows are M/N) are read with
//   imm-trans 0; MN-major ones (B of NN/TN, A of TN: rows are K, two 64-wide M/N blocks) with
//   imm-trans 1, the descriptor's LBO stepping between the M/N blocks. Stages start on 1024-byte
//   boundaries of the shared window, as the swizzle (which acts on address bits) requires. Tiles
//   are then read without bank conflicts by the tensor cores and written conflict-free by the
//   copies; no layout needs a transposing copy.
// - A 4-stage cp.async ring, prefetching 2 k-tiles ahead: wgmma group kt may still be running
//   while the block issues group kt + 1 (wait_group 1), so the stage a load overwrites must be
//   two behind the one being multiplied (stage (kt + 2) % 4 == (kt - 2) % 4, whose group every
//   thread completed before the barrier of iteration kt).
// - Loads as in gemm_tiles.cuh's copy_tile: 16-byte cp.async where lda/ldb and the bases allow
//   it, element loads otherwise, zero fill beyond M, N or K (the mma loop has no bounds checks).
//   Each writing thread fences (fence.proxy.async) before the barrier that hands the tile to wgmma.
// - Epilogue straight from the accumulators with gemm_tiles.cuh's store_pair (alpha, beta, the
//   output type, bounds): each lane holds two adjacent columns per 8-column group.
#include "backend/cuda/gemm_wgmma.h"

#include <cassert>
#include <cmath>
#include <cstdio>
#include <vector>

#include "backend/cuda/gemm_args.cuh"
#include "backend/cuda/gpu_wgmma.cuh"

namespace pd_cuda {
namespace wgmma_detail {
namespace {

using gemm_detail::GemmArgs;

constexpr int BM = 128, BN = 128, BK = 64, STAGES = 4, PREFETCH = STAGES - 2;
constexpr int WARPGROUPS = BM / 64, THREADS = 128 * WARPGROUPS;
constexpr int kRowBytes = 128;                   // one 128-byte swizzle row: 64 16-bit values
constexpr int kRowElems = kRowBytes / 2;
constexpr uint32_t kAtomBytes = 8 * kRowBytes;   // a swizzle atom: 8 rows
constexpr int kTileABytes = BM * BK * 2, kTileBBytes = BN * BK * 2;
constexpr int kStageBytes = kTileABytes + kTileBBytes;
constexpr size_t kSmemBytes = (size_t)STAGES * kStageBytes + 1024;  // + slack to align the ring
static_assert(BK == kRowElems, "a K-major tile row is one swizzle row");
static_assert(BM / WARPGROUPS == kRowElems, "a warpgroup's M slice of an M-major A is one atom wide");

// How an operand tile of one k-tile (MN = 128 rows of A or B by BK) sits in shared memory.
// K-major (the global matrix is [MN rows][K]): tile row r = MN index, its 64 K values one swizzle
// row; atoms (8 MN rows) SBO = 1024 apart; a k16 step is +32 bytes; an MN offset of 64 is
// +64 rows = +8192 bytes.
// MN-major (global [K rows][MN]): tile row r = K index, split in MN blocks of 64 values; block
// b holds BK rows of 128 bytes (8 KiB), atoms (8 K rows) SBO = 1024 apart, blocks LBO = 8192
// apart; a k16 step is + 2 atoms = +2048 bytes; an MN offset of 64 is the next block, +8192.
template <bool MN_MAJOR, int MN>
struct TileLayout {
  static constexpr int kRows = MN_MAJOR ? BK : MN;      // global rows the tile covers
  static constexpr int kCols = MN_MAJOR ? MN : BK;      // global columns (contiguous)
  static constexpr int kBlockBytes = kRows * kRowBytes;  // one 64-column block
  static constexpr uint32_t kLbo = MN_MAJOR ? (uint32_t)kBlockBytes : 16u;  // K-major: unused
  static constexpr uint32_t kK16Step = MN_MAJOR ? 2 * kAtomBytes : 32u;
  static constexpr uint32_t kMn64Step = MN_MAJOR ? (uint32_t)kBlockBytes : 64u * kRowBytes;
  static_assert(kCols % kRowElems == 0, "whole 64-column blocks");

  // Byte offset of 16-byte chunk c (columns 8c..8c+7) of tile row r: chunk c % 8 of the row is
  // stored at chunk (c % 8) ^ (r % 8), as the 128-byte swizzle reads it.
  __device__ __forceinline__ static int chunk_offset(int r, int c) {
    return (c / 8) * kBlockBytes + r * kRowBytes + (((c % 8) ^ (r & 7)) << 4);
  }
  __device__ __forceinline__ static uint64_t desc(uint32_t addr) {
    return pd_wgmma_desc(addr, kLbo, kAtomBytes, PdSwizzle::B128);
  }

  // Rows [row0, row0 + kRows) x columns [col0, col0 + kCols) of the row-major g (rows x cols,
  // stride ld) into the tile; everything outside the matrix is 0. Consecutive threads take one
  // row's consecutive chunks, so the global reads are coalesced.
  template <bool VEC>
  __device__ __forceinline__ static void load(unsigned char* tile, const uint16_t* g, int64_t ld, int row0, int col0,
                                              int rows, int cols, int tid) {
    constexpr int kChunksPerRow = kCols / 8, kChunks = kRows * kChunksPerRow;
    static_assert(kChunks % THREADS == 0, "tile must split into whole chunks per thread");
    PD_GEMM_UNROLL
    for (int it = 0; it < kChunks / THREADS; it++) {
      const int c = tid + it * THREADS, r = c / kChunksPerRow, cc = c % kChunksPerRow;
      gemm_detail::copy_chunk<VEC>(tile + chunk_offset(r, cc), g, ld, row0 + r, col0 + 8 * cc, rows, cols);
    }
  }

  // The k-tile starting at k0 of the operand whose MN tile starts at mn0 (bounds mn, K).
  template <bool VEC>
  __device__ __forceinline__ static void load_ktile(unsigned char* tile, const uint16_t* g, int64_t ld, int mn0,
                                                    int k0, int mn, int K, int tid) {
    if constexpr (MN_MAJOR)
      load<VEC>(tile, g, ld, k0, mn0, K, mn, tid);
    else
      load<VEC>(tile, g, ld, mn0, k0, mn, K, tid);
  }
};
static_assert(TileLayout<false, BM>::kBlockBytes == kTileABytes && 2 * TileLayout<true, BM>::kBlockBytes == kTileABytes,
              "both layouts fill the same stage bytes");

// NT: A [M][K] and B [N][K] K-major; NN: B [K][N] N-major; TN: A [K][M] M-major too.
template <GemmOp OP>
struct OpLayouts {
  static constexpr bool kMnA = OP == GemmOp::TN, kMnB = OP != GemmOp::NT;
  using A = TileLayout<kMnA, BM>;
  using B = TileLayout<kMnB, BN>;
};

template <GemmOp OP, bool BF16, bool VEC>
__global__ void __launch_bounds__(THREADS, 1) gemm_wgmma_kernel(GemmArgs p) {
  using LA = typename OpLayouts<OP>::A;
  using LB = typename OpLayouts<OP>::B;
  PD_DYNAMIC_SMEM(unsigned char, smem_raw);
  const uint32_t raw_addr = pd_wgmma_smem_addr(smem_raw);
  unsigned char* const smem = smem_raw + ((1024u - (raw_addr & 1023u)) & 1023u);
  const uint32_t smem_addr = pd_wgmma_smem_addr(smem);

  const int tid = threadIdx.x, wg = tid / 128, warp = (tid % 128) / 32, lane = tid % 32;
  int tile_m, tile_n;
  gemm_detail::grouped_tile(blockIdx.x, p.tiles_m, p.tiles_n, &tile_m, &tile_n);
  const int m0 = tile_m * BM, n0 = tile_n * BN;
  const int k_tiles = (p.K + BK - 1) / BK;

  auto load_stage = [&](int stage, int kt) {
    unsigned char* a = smem + stage * kStageBytes;
    LA::template load_ktile<VEC>(a, p.A, p.lda, m0, kt * BK, p.M, p.K, tid);
    LB::template load_ktile<VEC>(a + kTileABytes, p.B, p.ldb, n0, kt * BK, p.N, p.K, tid);
  };

  float acc[BN / 2];
  PD_GEMM_UNROLL
  for (int i = 0; i < BN / 2; i++) acc[i] = 0.0f;

  for (int s = 0; s < PREFETCH; s++) {
    if (s < k_tiles) load_stage(s, s);
    pd_cp_async_commit();
  }
  for (int kt = 0; kt < k_tiles; kt++) {
    pd_cp_async_wait<PREFETCH - 1>();  // k-tile kt has landed (this thread's copies) ...
    pd_fence_proxy_async_smem();       // ... and is visible to the tensor cores' async proxy ...
    __syncthreads();                   // ... everyone's; and every thread has completed group kt - 2
    const int next = kt + PREFETCH;
    if (next < k_tiles) load_stage(next % STAGES, next);
    pd_cp_async_commit();

    const uint32_t a_addr = smem_addr + (uint32_t)((kt % STAGES) * kStageBytes) + wg * LA::kMn64Step;
    const uint32_t b_addr = smem_addr + (uint32_t)((kt % STAGES) * kStageBytes + kTileABytes);
    pd_wgmma_fence();
    PD_GEMM_UNROLL
    for (int kk = 0; kk < BK / 16; kk++)
      pd_wgmma_m64k16<BN, BF16, OpLayouts<OP>::kMnA, OpLayouts<OP>::kMnB>(
          acc, LA::desc(a_addr + kk * LA::kK16Step), LB::desc(b_addr + kk * LB::kK16Step), kt > 0 || kk > 0);
    pd_wgmma_commit();
    pd_wgmma_wait<1>();  // group kt - 1 is done: its stage may be refilled after the next barrier
  }
  pd_wgmma_wait<0>();

  const int g = lane / 4, q = lane % 4, row = m0 + 64 * wg + 16 * warp + g;
  PD_GEMM_UNROLL
  for (int j = 0; j < BN / 8; j++) {
    const int col = n0 + 8 * j + 2 * q;
    gemm_detail::store_pair(p, row, col, acc[4 * j], acc[4 * j + 1]);
    gemm_detail::store_pair(p, row + 8, col, acc[4 * j + 2], acc[4 * j + 3]);
  }
}

template <GemmOp OP, bool BF16, bool VEC>
void launch(GemmArgs p, pd_stream_t s) {
  p.tiles_m = (int)pd_ceil_div(p.M, BM);
  p.tiles_n = (int)pd_ceil_div(p.N, BN);
  const dim3 grid((unsigned)((int64_t)p.tiles_m * p.tiles_n));
  pd_launch(gemm_wgmma_kernel<OP, BF16, VEC>, grid, dim3(THREADS), kSmemBytes, s, p);
}

template <GemmOp OP>
void launch_op(const GemmArgs& p, bool bf16, bool vec, pd_stream_t s) {
  if (bf16)
    vec ? launch<OP, true, true>(p, s) : launch<OP, true, false>(p, s);
  else
    vec ? launch<OP, false, true>(p, s) : launch<OP, false, false>(p, s);
}

}  // namespace
}  // namespace wgmma_detail

bool gemm_wgmma_supported(const GemmDesc& d) {
  return (d.ab == Elem::BF16 || d.ab == Elem::F16) && d.M >= 1 && d.N >= 1 && d.K >= 1 && d.M <= INT32_MAX &&
         d.N <= INT32_MAX && d.K <= INT32_MAX;
}

void gemm_wgmma(const GemmDesc& d, pd_stream_t s) {
  using namespace wgmma_detail;
  assert(gemm_wgmma_supported(d));
  const gemm_detail::GemmArgs p = gemm_detail::make_gemm_args(d);
  const bool bf16 = d.ab == Elem::BF16, vec = gemm_detail::gemm_vector_loads(d);
  switch (d.op) {
    case GemmOp::NT: return launch_op<GemmOp::NT>(p, bf16, vec, s);
    case GemmOp::NN: return launch_op<GemmOp::NN>(p, bf16, vec, s);
    case GemmOp::TN: return launch_op<GemmOp::TN>(p, bf16, vec, s);
  }
}

namespace {

const char* op_name(GemmOp op) { return op == GemmOp::NT ? "NT" : op == GemmOp::NN ? "NN" : "TN"; }

// The first element of the probe's product for layout op that differs from the exact result, as
// a message; empty when every element matches. a and b are n x n, read as op's layouts say.
std::string probe_mismatch(GemmOp op, int n, const std::vector<float>& a, const std::vector<float>& b,
                           const std::vector<float>& c) {
  for (int m = 0; m < n; m++)
    for (int j = 0; j < n; j++) {
      double e = 0;
      for (int k = 0; k < n; k++) {
        const float av = op == GemmOp::TN ? a[k * n + m] : a[m * n + k];
        const float bv = op == GemmOp::NT ? b[j * n + k] : b[k * n + j];
        e += (double)av * bv;
      }
      if (std::fabs(c[m * n + j] - e) > 1e-3) {
        char msg[160];
        std::snprintf(msg, sizeof msg, "wgmma probe %s: C[%d][%d] = %g, expected %g", op_name(op), m, j, c[m * n + j], e);
        return msg;
      }
    }
  return "";
}

}  // namespace

bool wgmma_self_test(std::string* why) {
  constexpr int n = 128;  // one block: two warpgroups, two k-tiles (the ring turns once)
  std::vector<pd_bf16> a(n * n), b(n * n);
  std::vector<float> af(n * n), bf(n * n), c(n * n);
  for (int i = 0; i < n * n; i++) {  // small multiples of 1/4 and 1/2: every sum is exact in F32
    af[i] = (float)((i * 7) % 13 - 6) / 4.0f;
    bf[i] = (float)((i * 5) % 11 - 5) / 2.0f;
    a[i] = __float2bfloat16_rn(af[i]);
    b[i] = __float2bfloat16_rn(bf[i]);
  }
  const size_t ab_bytes = (size_t)n * n * sizeof(pd_bf16), c_bytes = (size_t)n * n * sizeof(float);
  unsigned char* mem = (unsigned char*)pd_gpu::device_malloc(2 * ab_bytes + c_bytes);
  if (!mem) {
    *why = "wgmma probe: " + pd_gpu::last_error();
    return false;
  }
  GemmDesc d;
  d.ab = Elem::BF16;
  d.c = Elem::F32;
  d.M = d.N = d.K = n;
  d.A = mem;
  d.B = mem + ab_bytes;
  d.C = mem + 2 * ab_bytes;
  d.lda = d.ldb = d.ldc = n;
  bool good = pd_gpu::copy_h2d(mem, a.data(), ab_bytes) && pd_gpu::copy_h2d(mem + ab_bytes, b.data(), ab_bytes);
  // Every layout the kernel serves: one wrong layout turns all of wgmma off (the message names it).
  std::string mismatch;
  for (GemmOp op : {GemmOp::NT, GemmOp::NN, GemmOp::TN}) {
    if (!good || !mismatch.empty()) break;
    d.op = op;
    gemm_wgmma(d, nullptr);
    good = pd_gpu::check_launch("wgmma probe") && pd_gpu::synchronize() &&
           pd_gpu::copy_d2h(c.data(), mem + 2 * ab_bytes, c_bytes);
    if (good) mismatch = probe_mismatch(op, n, af, bf, c);
  }
  pd_gpu::device_free(mem);
  if (!good) {
    *why = "wgmma kernels cannot run on this GPU: " + pd_gpu::last_error();
    return false;
  }
  *why = mismatch;
  return mismatch.empty();
}

}  // namespace pd_cuda
