#include "backend/cuda/emu/wgmma_emu.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <vector>

#include "backend/cuda/emu/emulator.h"
#include "core/dtype.h"
#include "core/fp16.h"

namespace pd_emu {
namespace {

struct PendingOp {
  float* d;
  int n;
  uint64_t desc_a, desc_b;
  bool accumulate, bf16, mn_a, mn_b;
};

// One thread's issued, not yet completed ops: `open` since the last commit, then the committed
// groups oldest first. Tagged with the launch and block that issued them, so ops a thread left
// pending at exit are reported instead of leaking into the next block.
struct ThreadQueue {
  uint64_t launch = 0;
  uint3 block{0, 0, 0};
  std::vector<PendingOp> open;
  std::deque<std::vector<PendingOp>> groups;
  bool empty() const { return open.empty() && groups.empty(); }
};

std::vector<ThreadQueue>& queues() {
  static std::vector<ThreadQueue> q(1024);
  return q;
}

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "pd_emu (wgmma): %s\n", what);
  std::abort();
}

ThreadQueue& my_queue() {
  const ThreadState& t = current();
  ThreadQueue& q = queues()[t.linear];
  const bool same = q.launch == launch_count() && q.block.x == t.block_idx.x && q.block.y == t.block_idx.y &&
                    q.block.z == t.block_idx.z;
  if (!same) {
    if (!q.empty()) fail("a thread exited with wgmma ops still pending (no wgmma.wait_group 0)");
    q.launch = launch_count();
    q.block = t.block_idx;
  }
  return q;
}

float element(uint64_t desc, int row, int k, bool bf16, bool mn_major) {
  uint16_t bits;
  const unsigned char* smem = static_cast<const unsigned char*>(dynamic_smem());
  std::memcpy(&bits, smem + wgmma_element_address(desc, row, k, 2, mn_major), 2);
  return bf16 ? paddock::bf16_to_fp32(bits) : paddock::fp16_to_fp32(bits);
}

// This thread's fragment of D = A B (+ D): rows 16w + g and + 8, columns 8j + 2q and + 1.
void execute(const PendingOp& op) {
  const int in_group = current().linear % 128, warp = in_group / 32, lane = in_group % 32;
  const int g = lane / 4, q = lane % 4;
  float a[2][16];
  for (int h = 0; h < 2; h++)
    for (int k = 0; k < 16; k++) a[h][k] = element(op.desc_a, 16 * warp + g + 8 * h, k, op.bf16, op.mn_a);
  for (int j = 0; j < op.n / 8; j++)
    for (int c = 0; c < 2; c++) {
      float b[16];
      for (int k = 0; k < 16; k++) b[k] = element(op.desc_b, 8 * j + 2 * q + c, k, op.bf16, op.mn_b);
      for (int h = 0; h < 2; h++) {
        float acc = op.accumulate ? op.d[4 * j + 2 * h + c] : 0.0f;
        for (int k = 0; k < 16; k++) acc += a[h][k] * b[k];
        op.d[4 * j + 2 * h + c] = acc;
      }
    }
}

}  // namespace

uint32_t wgmma_smem_address(const void* p) {
  const unsigned char* base = static_cast<const unsigned char*>(dynamic_smem());
  const unsigned char* at = static_cast<const unsigned char*>(p);
  if (at < base || at - base >= (1 << 18)) fail("a wgmma operand outside the dynamic shared memory");
  return (uint32_t)(at - base);
}

uint32_t wgmma_element_address(uint64_t desc, int row, int k, int elem_bytes, bool mn_major) {
  const uint32_t start = (uint32_t)(desc & 0x3FFF) << 4;
  const uint32_t lbo = (uint32_t)((desc >> 16) & 0x3FFF) << 4;
  const uint32_t sbo = (uint32_t)((desc >> 32) & 0x3FFF) << 4;
  const uint32_t base_offset = (uint32_t)(desc >> 49) & 7;
  const uint32_t swizzle = (uint32_t)(desc >> 62) & 3;
  if (base_offset != 0) fail("descriptor base offset != 0 is not emulated");
  // The contiguous ("leading") coordinate in bytes, and the strided one (rows of the layout).
  const uint32_t lead = (uint32_t)((mn_major ? row : k) * elem_bytes);
  const uint32_t strided = (uint32_t)(mn_major ? k : row);
  if (swizzle == 0) {
    // Core matrices: 8 strided rows x 16 bytes, contiguous. M/N neighbours SBO apart and K
    // neighbours LBO apart, whichever of the two is the leading coordinate.
    const uint32_t mn_step = mn_major ? lead / 16 : strided / 8, k_step = mn_major ? strided / 8 : lead / 16;
    return start + mn_step * sbo + k_step * lbo + (strided % 8) * 16 + lead % 16;
  }
  const uint32_t width = 256u >> swizzle;  // an atom's row: 1: 128 bytes, 2: 64, 3: 32
  uint32_t linear;
  if (!mn_major) {  // atoms of 8 M/N rows SBO apart; the instruction's K must lie inside a row
    if (lead >= width) fail("a K-major swizzled row is narrower than the instruction's K");
    linear = start + (strided / 8) * sbo + (strided % 8) * width + lead;
  } else {  // atoms width bytes of M/N wide (LBO apart) x 8 K rows (SBO apart)
    linear = start + (lead / width) * lbo + (strided / 8) * sbo + (strided % 8) * width + lead % width;
  }
  return linear ^ (((linear >> 7) & (width / 16 - 1)) << 4);  // chunk bits 4.. ^= bits 7..
}

void wgmma_mma_async(float* d, int n, uint64_t desc_a, uint64_t desc_b, bool accumulate, bool bf16, bool mn_a,
                     bool mn_b) {
  const ThreadState& t = current();
  const int threads = (int)(t.block_dim.x * t.block_dim.y * t.block_dim.z);
  if ((t.linear / 128 + 1) * 128 > threads) fail("wgmma issued by an incomplete warpgroup (block not a multiple of 128)");
  if (n % 8 != 0 || n < 8 || n > 256) fail("wgmma N must be a multiple of 8 in 8..256");
  my_queue().open.push_back(PendingOp{d, n, desc_a, desc_b, accumulate, bf16, mn_a, mn_b});
}

void wgmma_commit() {
  ThreadQueue& q = my_queue();
  q.groups.push_back(std::move(q.open));
  q.open.clear();
}

void wgmma_wait(int pending_groups) {
  ThreadQueue& q = my_queue();
  while ((int)q.groups.size() > pending_groups) {
    for (const PendingOp& op : q.groups.front()) execute(op);
    q.groups.pop_front();
  }
}

}  // namespace pd_emu
