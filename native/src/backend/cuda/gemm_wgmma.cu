// The Hopper tensor-core GEMM (see gemm_wgmma.h): NT products on wgmma.mma_async m64n128k16 with
// A and B read by the tensor cores straight from shared memory (gpu_wgmma.cuh). Compiled for
// sm_90a only (CMake puts *wgmma*.cu in a 90a-real object library).
//
// Design:
// - Block tile 128 x 128 x 64, two consumer warpgroups (256 threads), warpgroup w owns output
//   rows 64w..64w+63 and all 128 columns: 64 F32 accumulators a thread, one m64n128k16 per 16 of
//   K, four per k-tile.
// - Operand tiles are K-major with the 128-byte swizzle: a tile row is its 64 K values (128
//   bytes), its 16-byte chunk c stored at chunk c ^ (row % 8), 8-row groups 1024 bytes apart (the
//   descriptor's SBO); stages start on 1024-byte boundaries of the shared window, as the swizzle
//   (which acts on address bits) requires. Rows of both operands are then read without bank
//   conflicts by the tensor cores and written conflict-free by the copies.
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
constexpr int kRowBytes = BK * 2;       // 128: one swizzle row per tile row
constexpr uint32_t kGroupBytes = 8 * kRowBytes;  // SBO: consecutive 8-row groups
constexpr int kTileABytes = BM * kRowBytes, kTileBBytes = BN * kRowBytes;
constexpr int kStageBytes = kTileABytes + kTileBBytes;
constexpr size_t kSmemBytes = (size_t)STAGES * kStageBytes + 1024;  // + slack to align the ring
static_assert(kRowBytes == 128, "the 128-byte swizzle needs 64 16-bit K values a row");

// Byte offset of 16-byte chunk c (K values 8c..8c+7) of row r in a 128-byte-swizzled tile.
__device__ __forceinline__ int swizzled_chunk(int r, int c) { return r * kRowBytes + ((c ^ (r & 7)) << 4); }

// Rows [row0, row0 + ROWS) x K [k0, k0 + BK) of the row-major g (rows x K, stride ld) into a
// swizzled tile; everything outside the matrix is 0. Eight consecutive threads take one row's
// chunks, so the global reads are 128-byte coalesced.
template <int ROWS, bool VEC>
__device__ __forceinline__ void load_tile(unsigned char* tile, const uint16_t* g, int64_t ld, int row0, int k0,
                                          int rows, int K, int tid) {
  constexpr int kChunks = ROWS * (BK / 8);
  static_assert(kChunks % THREADS == 0, "tile must split into whole chunks per thread");
  PD_GEMM_UNROLL
  for (int it = 0; it < kChunks / THREADS; it++) {
    const int c = tid + it * THREADS, r = c / (BK / 8), kc = c % (BK / 8);
    const int gr = row0 + r, gk = k0 + 8 * kc;
    void* dst = tile + swizzled_chunk(r, kc);
    const bool row_in = gr < rows;
    if (VEC && (!row_in || gk + 8 <= K || gk >= K)) {
      const bool in = row_in && gk < K;
      pd_cp_async_16(dst, in ? g + (int64_t)gr * ld + gk : g, in);  // !in: zero fill, reads nothing
    } else {
      uint32_t w[4] = {0, 0, 0, 0};
      if (row_in) {
        const uint16_t* src = g + (int64_t)gr * ld + gk;
        PD_GEMM_UNROLL
        for (int e = 0; e < 8; e++)
          if (gk + e < K) w[e / 2] |= (uint32_t)src[e] << (16 * (e % 2));
      }
      *reinterpret_cast<uint4*>(dst) = uint4{w[0], w[1], w[2], w[3]};
    }
  }
}

// A K-major 128-byte-swizzled operand whose first row is at addr (LBO is unused by this layout).
__device__ __forceinline__ uint64_t tile_desc(uint32_t addr) {
  return pd_wgmma_desc(addr, 16, kGroupBytes, PdSwizzle::B128);
}

template <bool BF16, bool VEC>
__global__ void __launch_bounds__(THREADS, 1) gemm_wgmma_kernel(GemmArgs p) {
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
    load_tile<BM, VEC>(a, p.A, p.lda, m0, kt * BK, p.M, p.K, tid);
    load_tile<BN, VEC>(a + kTileABytes, p.B, p.ldb, n0, kt * BK, p.N, p.K, tid);
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

    const uint32_t a_addr = smem_addr + (uint32_t)((kt % STAGES) * kStageBytes + wg * 64 * kRowBytes);
    const uint32_t b_addr = smem_addr + (uint32_t)((kt % STAGES) * kStageBytes + kTileABytes);
    pd_wgmma_fence();
    PD_GEMM_UNROLL
    for (int kk = 0; kk < BK / 16; kk++)  // a k16 step is +32 bytes within the swizzled rows
      pd_wgmma_m64k16<BN, BF16>(acc, tile_desc(a_addr + 32 * kk), tile_desc(b_addr + 32 * kk), kt > 0 || kk > 0);
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

template <bool BF16, bool VEC>
void launch(GemmArgs p, pd_stream_t s) {
  p.tiles_m = (int)pd_ceil_div(p.M, BM);
  p.tiles_n = (int)pd_ceil_div(p.N, BN);
  const dim3 grid((unsigned)((int64_t)p.tiles_m * p.tiles_n));
  pd_launch(gemm_wgmma_kernel<BF16, VEC>, grid, dim3(THREADS), kSmemBytes, s, p);
}

}  // namespace
}  // namespace wgmma_detail

bool gemm_wgmma_supported(const GemmDesc& d) {
  return d.op == GemmOp::NT && (d.ab == Elem::BF16 || d.ab == Elem::F16) && d.M >= 1 && d.N >= 1 && d.K >= 1 &&
         d.M <= INT32_MAX && d.N <= INT32_MAX && d.K <= INT32_MAX;
}

void gemm_wgmma(const GemmDesc& d, pd_stream_t s) {
  using namespace wgmma_detail;
  assert(gemm_wgmma_supported(d));
  const gemm_detail::GemmArgs p = gemm_detail::make_gemm_args(d);
  const bool vec = gemm_detail::gemm_vector_loads(d);
  if (d.ab == Elem::BF16)
    vec ? launch<true, true>(p, s) : launch<true, false>(p, s);
  else
    vec ? launch<false, true>(p, s) : launch<false, false>(p, s);
}

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
  d.op = GemmOp::NT;
  d.ab = Elem::BF16;
  d.c = Elem::F32;
  d.M = d.N = d.K = n;
  d.A = mem;
  d.B = mem + ab_bytes;
  d.C = mem + 2 * ab_bytes;
  d.lda = d.ldb = d.ldc = n;
  bool good = pd_gpu::copy_h2d(mem, a.data(), ab_bytes) && pd_gpu::copy_h2d(mem + ab_bytes, b.data(), ab_bytes);
  if (good) {
    gemm_wgmma(d, nullptr);
    good = pd_gpu::check_launch("wgmma probe") && pd_gpu::synchronize() &&
           pd_gpu::copy_d2h(c.data(), mem + 2 * ab_bytes, c_bytes);
  }
  pd_gpu::device_free(mem);
  if (!good) {
    *why = "wgmma kernels cannot run on this GPU: " + pd_gpu::last_error();
    return false;
  }
  for (int m = 0; m < n; m++)
    for (int j = 0; j < n; j++) {
      double e = 0;
      for (int k = 0; k < n; k++) e += (double)af[m * n + k] * bf[j * n + k];
      if (std::fabs(c[m * n + j] - e) > 1e-3) {
        char msg[160];
        std::snprintf(msg, sizeof msg, "wgmma probe: C[%d][%d] = %g, expected %g", m, j, c[m * n + j], e);
        *why = msg;
        return false;
      }
    }
  return true;
}

}  // namespace pd_cuda
