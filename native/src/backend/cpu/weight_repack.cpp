// Load-time repacking of quantized matrices into 16-row panels (layout: weight_repack.h).
#include "backend/cpu/weight_repack.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <thread>

#include "backend/cpu/quant.h"
#include "backend/cpu/quant_avx512.h"

#if !defined(_WIN32)
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#endif

namespace paddock {
namespace quant {

namespace {

constexpr int kGroupBytes = 4;                   // elements 4g..4g+3 of a row (Q4_0: 8 nibbles)
constexpr size_t kScaleBytes = 2 * kPackRows;    // one fp16 d per row and block

// Byte offset of the quants of a block in a GGUF block, and the xor that makes them unsigned.
struct BlockShape {
  size_t block_bytes;
  size_t quant_offset;
  uint32_t flip;
};

bool block_shape(QuantType t, BlockShape* s) {
  switch (t) {
    case QuantType::Q8_0: *s = {sizeof(block_q8_0), 2, 0x80808080u}; return true;
    case QuantType::Q4_0: *s = {sizeof(block_q4_0), 2, 0u}; return true;
    default: return false;
  }
}

size_t panel_bytes(QuantType t, int cols) { return size_t(cols / QK) * (packed_block_quant_bytes(t) + kScaleBytes); }

// The one place that maps GGUF bytes to panel bytes; `to_panel` says which way they move.
template <bool to_panel>
void move_panels(QuantType t, uint8_t* rows, int cols, int p0, int p1, uint8_t* panels, size_t row0) {
  BlockShape s;
  if (!block_shape(t, &s)) return;
  const int nb = cols / QK;
  const size_t wrb = size_t(nb) * s.block_bytes, qb = packed_block_quant_bytes(t);
  const int groups = int(qb / (kGroupBytes * kPackRows));
  for (int p = p0; p < p1; p++) {
    uint8_t* q = panels + size_t(p) * panel_bytes(t, cols);
    uint8_t* d = q + size_t(nb) * qb;
    for (int r = 0; r < kPackRows; r++) {
      uint8_t* row = rows + (size_t(p) * kPackRows + r - row0) * wrb;
      for (int b = 0; b < nb; b++) {
        uint8_t* blk = row + size_t(b) * s.block_bytes;
        uint8_t* pq = q + size_t(b) * qb + kGroupBytes * r;
        for (int g = 0; g < groups; g++) {
          uint32_t v;
          std::memcpy(&v, to_panel ? blk + s.quant_offset + kGroupBytes * g : pq + g * kGroupBytes * kPackRows, 4);
          v ^= s.flip;
          std::memcpy(to_panel ? pq + g * kGroupBytes * kPackRows : blk + s.quant_offset + kGroupBytes * g, &v, 4);
        }
        uint8_t* pd = d + kScaleBytes * b + 2 * r;
        if (to_panel) std::memcpy(pd, blk, 2); else std::memcpy(blk, pd, 2);
      }
    }
  }
}

}  // namespace

size_t packed_block_quant_bytes(QuantType t) {
  BlockShape s;
  return block_shape(t, &s) ? (s.block_bytes - s.quant_offset) * kPackRows : 0;
}

bool packed_layout_in_use(QuantType t) {
#if defined(PADDOCK_HAVE_AVX512_TU) && defined(PADDOCK_QUANT_X86)
  return packed_block_quant_bytes(t) != 0 && quant_best_isa() == QuantIsa::AVX512;
#else
  (void)t;
  return false;
#endif
}

void repack_panels(QuantType t, const void* W, int cols, int p0, int p1, void* out, size_t first_row) {
#if defined(PADDOCK_HAVE_AVX512_TU) && defined(PADDOCK_QUANT_X86)
  if (packed_layout_in_use(t) && first_row == size_t(p0) * kPackRows) {
    if (t == QuantType::Q8_0) return avx512::repack_panels_q8_0(cols, W, p0, p1, out);
    if (t == QuantType::Q4_0) return avx512::repack_panels_q4_0(cols, W, p0, p1, out);
  }
#endif
  move_panels<true>(t, const_cast<uint8_t*>(static_cast<const uint8_t*>(W)), cols, p0, p1, static_cast<uint8_t*>(out),
                    first_row);
}

void unpack_panels(QuantType t, const void* P, int cols, int p0, int p1, void* dst) {
#if defined(PADDOCK_HAVE_AVX512_TU) && defined(PADDOCK_QUANT_X86)
  if (packed_layout_in_use(t)) {
    if (t == QuantType::Q8_0) return avx512::unpack_panels_q8_0(cols, P, p0, p1, dst);
    if (t == QuantType::Q4_0) return avx512::unpack_panels_q4_0(cols, P, p0, p1, dst);
  }
#endif
  move_panels<false>(t, static_cast<uint8_t*>(dst), cols, p0, p1, const_cast<uint8_t*>(static_cast<const uint8_t*>(P)),
                     size_t(p0) * kPackRows);
}

void packed_gemv(QuantType t, int cols, const void* P, int p0, int p1, const void* act, float* y, void* work) {
#if defined(PADDOCK_HAVE_AVX512_TU) && defined(PADDOCK_QUANT_X86)
  if (t == QuantType::Q8_0) return avx512::gemv_packed_q8_0_q8_0(cols, P, p0, p1, act, y, work);
  if (t == QuantType::Q4_0) return avx512::gemv_packed_q4_0_q8_0(cols, P, p0, p1, act, y, work);
#endif
  (void)t, (void)cols, (void)P, (void)p0, (void)p1, (void)act, (void)y, (void)work;
}

}  // namespace quant

namespace {

bool packable(const Tensor& t) {
  const quant::QuantType qt = (quant::QuantType)(uint32_t)t.type;
  return t.data && t.ne[2] == 1 && t.ne[3] == 1 && t.ne[1] % quant::kPackRows == 0 && t.ne[0] % quant::QK == 0 &&
         quant::packed_layout_in_use(qt);
}

// Gives the file pages behind [p, p + n) back (whole pages inside the range only: neighbours
// may share the first and last page). Read-only private file pages: they re-fault from the
// page cache if read again.
void release_mapped_pages(const void* p, size_t n) {
#if !defined(_WIN32)
  const uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE));
  const uintptr_t b = (reinterpret_cast<uintptr_t>(p) + page - 1) & ~(page - 1);
  const uintptr_t e = (reinterpret_cast<uintptr_t>(p) + n) & ~(page - 1);
  if (e > b) madvise(reinterpret_cast<void*>(b), e - b, MADV_DONTNEED);
#else
  (void)p, (void)n;
#endif
}

// Where a thread reads the GGUF rows it repacks. From the file with pread when it can (no 4 KiB
// page faults, and no mapped pages left behind, so resident memory never holds the weights
// twice); else through the mapping, whose pages are released afterwards.
class RowSource {
 public:
  RowSource(const char* path, const uint8_t* map_b, size_t map_n) : map_b_(map_b), map_n_(map_n) {
#if !defined(_WIN32)
    if (path && map_b) fd_ = ::open(path, O_RDONLY | O_CLOEXEC);
#else
    (void)path;
#endif
  }
  ~RowSource() {
#if !defined(_WIN32)
    if (fd_ >= 0) ::close(fd_);
#endif
  }
  RowSource(const RowSource&) = delete;
  RowSource& operator=(const RowSource&) = delete;

  bool in_mapping(const void* p, size_t n) const {
    const uint8_t* b = static_cast<const uint8_t*>(p);
    return map_b_ && b >= map_b_ && b + n <= map_b_ + map_n_;
  }

  // n bytes at p (inside the tensor data): a pointer to them, read into buf when from the file.
  const uint8_t* rows(const void* p, size_t n, std::vector<uint8_t>* buf) const {
#if !defined(_WIN32)
    if (fd_ >= 0 && in_mapping(p, n)) {
      buf->resize(n);
      size_t done = 0;
      const off_t at = off_t(static_cast<const uint8_t*>(p) - map_b_);
      while (done < n) {
        const ssize_t k = ::pread(fd_, buf->data() + done, n - done, at + off_t(done));
        if (k <= 0) break;
        done += size_t(k);
      }
      if (done == n) return buf->data();
    }
#endif
    return static_cast<const uint8_t*>(p);  // no file (or a failed read): the mapping itself
  }

  // After reading through the mapping, its pages can go (see release_mapped_pages).
  void done_with(const void* p, size_t n, const uint8_t* used) const {
    if (used == p && in_mapping(p, n)) release_mapped_pages(p, n);
  }

 private:
  const uint8_t* map_b_;
  size_t map_n_;
  int fd_ = -1;
};

// Panels read per pread: ~1 MiB of rows, so the syscalls are few and the buffer stays in L2.
int panels_per_read(size_t row_bytes) {
  const size_t n = (size_t(1) << 20) / (row_bytes * quant::kPackRows);
  return n > 0 ? int(n) : 1;
}

}  // namespace

Status repack_for_decode(Tensor* const* ts, int n, int n_threads, const char* file_path, const void* mapping,
                         size_t mapping_bytes, std::vector<Buffer>* owned) {
  const RowSource source(file_path, static_cast<const uint8_t*>(mapping), mapping_bytes);
  std::vector<size_t> offset(size_t(n), SIZE_MAX);
  size_t total = 0;
  for (int i = 0; i < n; i++) {
    if (!ts[i] || !packable(*ts[i])) continue;
    offset[size_t(i)] = total;
    total += (ts[i]->nbytes + 4095) & ~size_t(4095);  // each matrix page aligned
  }
  if (total == 0) return Status();
  Buffer buf;
  PD_TRY(buf.allocate_huge(total, "the decode copy of the weights"));
  uint8_t* base = static_cast<uint8_t*>(buf.data());
  // Work items are all panels of all matrices in order; each thread takes a contiguous share.
  std::vector<int64_t> first_panel(size_t(n) + 1, 0);
  for (int i = 0; i < n; i++)
    first_panel[size_t(i) + 1] = first_panel[size_t(i)] + (offset[size_t(i)] == SIZE_MAX ? 0 : ts[i]->ne[1] / quant::kPackRows);
  const int64_t panels = first_panel[size_t(n)];
  auto work = [&](int64_t b, int64_t e) {
    std::vector<uint8_t> buf;
    for (int i = 0; i < n && b < e; i++) {
      const int64_t lo = std::max(b, first_panel[size_t(i)]), hi = std::min(e, first_panel[size_t(i) + 1]);
      if (lo >= hi) continue;
      const Tensor& t = *ts[i];
      const size_t rb = t.row_bytes();
      const int step = panels_per_read(rb);
      for (int64_t p0 = lo - first_panel[size_t(i)], p1 = hi - first_panel[size_t(i)]; p0 < p1; p0 += step) {
        const int64_t pe = std::min(p1, p0 + step);
        const uint8_t* src = t.row(p0 * quant::kPackRows);
        const size_t nbytes = size_t(pe - p0) * quant::kPackRows * rb;
        const uint8_t* rows = source.rows(src, nbytes, &buf);
        quant::repack_panels((quant::QuantType)(uint32_t)t.type, rows, int(t.ne[0]), int(p0), int(pe),
                             base + offset[size_t(i)], size_t(p0) * quant::kPackRows);
        source.done_with(src, nbytes, rows);
      }
    }
  };
  const int nt = std::max(1, std::min(n_threads, 16));
  std::vector<std::thread> threads;
  for (int k = 1; k < nt; k++) threads.emplace_back(work, panels * k / nt, panels * (k + 1) / nt);
  work(0, panels / nt);
  for (std::thread& th : threads) th.join();
  for (int i = 0; i < n; i++) {
    if (offset[size_t(i)] == SIZE_MAX) continue;
    ts[i]->packed = base + offset[size_t(i)];
    ts[i]->packed_from = ts[i]->data;
  }
  owned->push_back(std::move(buf));
  return Status();
}

}  // namespace paddock
