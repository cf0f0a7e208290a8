#include "backend/cuda/emu/emulator.h"

#include <sys/mman.h>
#include <ucontext.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <map>
#include <mutex>
#include <vector>

#include "core/dtype.h"
#include "core/fp16.h"

namespace pd_emu {
namespace {

enum class Wait { Running, Block, Warp, Done };

struct Fiber {
  ucontext_t ctx;
  ThreadState state;
  Wait wait = Wait::Running;
  void* stack = nullptr;
};

constexpr size_t kStackBytes = 256 * 1024;
constexpr size_t kGuardBytes = 4096;
constexpr size_t kSlotBytes = 64;

struct Emulator {
  std::mutex launch_mutex;  // launches from several host threads run one after another
  std::vector<Fiber> fibers;
  std::vector<void*> stacks;  // reused across launches (guard page below each)
  ucontext_t scheduler;
  Fiber* running = nullptr;
  const std::function<void()>* body = nullptr;
  std::vector<unsigned char> smem;
  std::vector<unsigned char> exchange;  // [warps][32][kSlotBytes]
  uint64_t launches = 0;
};

struct RecordedLaunch {
  dim3 grid, block;
  size_t smem;
  std::function<void()> body;
};
using Graph = std::vector<RecordedLaunch>;

// Streams being captured and what they recorded so far (host threads may capture their own).
struct Captures {
  std::mutex mu;
  std::map<const void*, Graph> open;
};
Captures& captures() {
  static Captures c;
  return c;
}

Emulator& emu() {
  static Emulator e;
  return e;
}

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "pd_emu: %s\n", what);
  std::abort();
}

void* stack_at(size_t i) {
  Emulator& e = emu();
  while (e.stacks.size() <= i) {
    void* p = mmap(nullptr, kStackBytes + kGuardBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) fail("cannot map a fiber stack");
    mprotect(p, kGuardBytes, PROT_NONE);  // an overflow faults instead of corrupting a neighbour
    e.stacks.push_back(p);
  }
  return (char*)e.stacks[i] + kGuardBytes;
}

void fiber_main() {
  Emulator& e = emu();
  (*e.body)();
  e.running->wait = Wait::Done;
  swapcontext(&e.running->ctx, &e.scheduler);
  fail("a finished fiber was resumed");
}

// Back to the scheduler with this fiber waiting on `w`.
void yield(Wait w) {
  Emulator& e = emu();
  if (!e.running) fail("a device primitive was called outside a kernel");
  e.running->wait = w;
  swapcontext(&e.running->ctx, &e.scheduler);
}

const char* wait_name(Wait w) {
  return w == Wait::Block ? "__syncthreads" : w == Wait::Warp ? "warp sync" : w == Wait::Done ? "done" : "running";
}

void run_block(size_t n) {
  Emulator& e = emu();
  for (size_t i = 0; i < n; i++) {
    Fiber& f = e.fibers[i];
    f.wait = Wait::Running;
    getcontext(&f.ctx);
    f.ctx.uc_stack.ss_sp = stack_at(i);
    f.ctx.uc_stack.ss_size = kStackBytes;
    f.ctx.uc_link = nullptr;
    makecontext(&f.ctx, fiber_main, 0);
  }
  const size_t warps = (n + 31) / 32;
  for (;;) {
    for (size_t i = 0; i < n; i++) {
      Fiber& f = e.fibers[i];
      if (f.wait != Wait::Running) continue;
      e.running = &f;
      swapcontext(&e.scheduler, &f.ctx);
      e.running = nullptr;
    }
    // Everyone is waiting or done: release a warp whose live lanes all wait at a warp sync,
    // else the block if every live thread waits at __syncthreads.
    bool released = false, all_done = true, all_block = true;
    for (size_t w = 0; w < warps; w++) {
      bool any_warp = false, warp_ready = true;
      for (size_t i = w * 32; i < std::min(n, w * 32 + 32); i++) {
        const Wait s = e.fibers[i].wait;
        if (s != Wait::Done) all_done = false;
        if (s == Wait::Warp) any_warp = true;
        else if (s != Wait::Done) warp_ready = false;
        if (s != Wait::Done && s != Wait::Block) all_block = false;
      }
      if (any_warp && warp_ready) {
        for (size_t i = w * 32; i < std::min(n, w * 32 + 32); i++)
          if (e.fibers[i].wait == Wait::Warp) e.fibers[i].wait = Wait::Running;
        released = true;
      }
    }
    if (all_done) return;
    if (released) continue;
    if (all_block) {
      for (size_t i = 0; i < n; i++)
        if (e.fibers[i].wait == Wait::Block) e.fibers[i].wait = Wait::Running;
      continue;
    }
    std::fprintf(stderr, "pd_emu: deadlock in block (%u,%u,%u):", e.fibers[0].state.block_idx.x,
                 e.fibers[0].state.block_idx.y, e.fibers[0].state.block_idx.z);
    for (size_t i = 0; i < n; i++) std::fprintf(stderr, " t%zu=%s", i, wait_name(e.fibers[i].wait));
    std::fprintf(stderr, "\n");
    fail("threads of one block wait at different barriers (a divergent __syncthreads or warp sync)");
  }
}

// The engine's one F16/BF16 implementation (exact, round-to-nearest-even).
float from_b16(uint16_t bits, bool bf16) { return bf16 ? paddock::bf16_to_fp32(bits) : paddock::fp16_to_fp32(bits); }

}  // namespace

const ThreadState& current() {
  Emulator& e = emu();
  if (!e.running) fail("threadIdx/blockIdx read outside a kernel");
  return e.running->state;
}

void* dynamic_smem() { return emu().smem.data(); }

uint64_t launch_count() { return emu().launches; }

bool capturing(const void* stream) {
  if (!stream) return false;
  Captures& c = captures();
  std::lock_guard<std::mutex> lock(c.mu);
  return c.open.count(stream) != 0;
}
void begin_capture(const void* stream) {
  Captures& c = captures();
  std::lock_guard<std::mutex> lock(c.mu);
  c.open[stream].clear();
}
void record(const void* stream, dim3 grid, dim3 block, size_t dynamic_smem_bytes, std::function<void()> body) {
  Captures& c = captures();
  std::lock_guard<std::mutex> lock(c.mu);
  auto it = c.open.find(stream);
  if (it == c.open.end()) fail("record: the stream is not capturing");
  it->second.push_back(RecordedLaunch{grid, block, dynamic_smem_bytes, std::move(body)});
}
void* end_capture(const void* stream) {
  Captures& c = captures();
  std::lock_guard<std::mutex> lock(c.mu);
  auto it = c.open.find(stream);
  if (it == c.open.end()) fail("end_capture: the stream is not capturing");
  Graph* g = new Graph(std::move(it->second));
  c.open.erase(it);
  return g;
}
void replay(void* graph) {
  for (const RecordedLaunch& l : *static_cast<Graph*>(graph)) launch(l.grid, l.block, l.smem, l.body);
}
void destroy_graph(void* graph) { delete static_cast<Graph*>(graph); }

void launch(dim3 grid, dim3 block, size_t dynamic_smem_bytes, const std::function<void()>& body) {
  Emulator& e = emu();
  std::lock_guard<std::mutex> lock(e.launch_mutex);
  const size_t n = (size_t)block.x * block.y * block.z;
  if (n == 0 || n > 1024) fail("block size must be 1..1024 threads");
  if (grid.x == 0 || grid.y == 0 || grid.z == 0 || grid.y > 65535 || grid.z > 65535) fail("invalid grid");
  if (dynamic_smem_bytes > 227 * 1024) fail("dynamic shared memory above 227 KiB");
  e.launches++;
  e.body = &body;
  e.fibers.assign(n, Fiber());
  e.exchange.assign(((n + 31) / 32) * 32 * kSlotBytes, 0);
  for (unsigned bz = 0; bz < grid.z; bz++)
    for (unsigned by = 0; by < grid.y; by++)
      for (unsigned bx = 0; bx < grid.x; bx++) {
        // Fresh garbage, not zeros, so a kernel that reads shared memory it never wrote is caught.
        e.smem.assign(dynamic_smem_bytes + 16, 0xA5);
        for (size_t i = 0; i < n; i++) {
          ThreadState& s = e.fibers[i].state;
          s.linear = (int)i;
          s.thread_idx = uint3{(unsigned)(i % block.x), (unsigned)((i / block.x) % block.y),
                               (unsigned)(i / ((size_t)block.x * block.y))};
          s.block_idx = uint3{bx, by, bz};
          s.block_dim = block;
          s.grid_dim = grid;
        }
        run_block(n);
      }
  e.body = nullptr;
}

void sync_block() { yield(Wait::Block); }
void sync_warp() { yield(Wait::Warp); }

void warp_exchange(const void* mine, size_t bytes, void* all_out) {
  Emulator& e = emu();
  if (bytes > kSlotBytes) fail("warp exchange above 64 bytes per lane");
  const int linear = current().linear, warp = linear / 32, lane = linear & 31;
  unsigned char* slots = e.exchange.data() + (size_t)warp * 32 * kSlotBytes;
  std::memcpy(slots + (size_t)lane * kSlotBytes, mine, bytes);
  sync_warp();  // every lane has written
  for (int l = 0; l < 32; l++) std::memcpy((unsigned char*)all_out + (size_t)l * bytes, slots + (size_t)l * kSlotBytes, bytes);
  sync_warp();  // every lane has read before anyone writes again
}

void mma_16816(float d[4], const uint32_t a[4], const uint32_t b[2], const float c[4], bool bf16) {
  struct Operands {
    uint32_t a[4], b[2];
  } mine, all[32];
  std::memcpy(mine.a, a, sizeof(mine.a));
  std::memcpy(mine.b, b, sizeof(mine.b));
  warp_exchange(&mine, sizeof(Operands), all);
  // Rebuild A (16x16, row-major) and B (16x8, k x n) from the PTX fragment layout:
  // A: a0 (g, 2q..2q+1), a1 (g+8, ..), a2 (g, 2q+8..), a3 (g+8, 2q+8..); g = lane/4, q = lane%4
  // B: b0 (k = 2q..2q+1, n = g), b1 (k = 2q+8.., n = g)
  float A[16][16], B[16][8];
  for (int l = 0; l < 32; l++) {
    const int g = l >> 2, q = l & 3;
    for (int r = 0; r < 4; r++) {
      const int row = g + ((r & 1) ? 8 : 0), col = 2 * q + ((r & 2) ? 8 : 0);
      A[row][col] = from_b16((uint16_t)(all[l].a[r] & 0xffff), bf16);
      A[row][col + 1] = from_b16((uint16_t)(all[l].a[r] >> 16), bf16);
    }
    for (int r = 0; r < 2; r++) {
      const int k = 2 * q + (r ? 8 : 0);
      B[k][g] = from_b16((uint16_t)(all[l].b[r] & 0xffff), bf16);
      B[k + 1][g] = from_b16((uint16_t)(all[l].b[r] >> 16), bf16);
    }
  }
  // D: d0,d1 (g, 2q..2q+1), d2,d3 (g+8, 2q..2q+1)
  const int lane = lane_id(), g = lane >> 2, q = lane & 3;
  for (int r = 0; r < 4; r++) {
    const int row = g + (r >= 2 ? 8 : 0), col = 2 * q + (r & 1);
    float acc = c[r];
    for (int k = 0; k < 16; k++) acc += A[row][k] * B[k][col];
    d[r] = acc;
  }
}

void ldmatrix(uint32_t* r, int n, const void* row_address, bool trans) {
  const void* all[32];
  warp_exchange(&row_address, sizeof(void*), all);
  // Matrix i's row j starts at the address given by lane 8i + j (8 b16 values each). Without
  // .trans lane l gets row l/4, columns 2(l%4), 2(l%4)+1; with .trans, the transpose.
  const int lane = lane_id(), g = lane >> 2, q = lane & 3;
  for (int i = 0; i < n; i++) {
    uint16_t v[2];
    for (int e = 0; e < 2; e++) {
      const int row = trans ? 2 * q + e : g, col = trans ? g : 2 * q + e;
      std::memcpy(&v[e], (const uint16_t*)all[8 * i + row] + col, 2);
    }
    r[i] = (uint32_t)v[0] | ((uint32_t)v[1] << 16);
  }
}

}  // namespace pd_emu
