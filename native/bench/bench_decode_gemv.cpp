// Microbenchmark of one decode step's weight traffic: the 7 matrices of each of L layers of a
// Llama shape (default TinyLlama-1.1B: dim 2048, kv 256, hidden 5632), Q8_0 or Q4_0, far more
// bytes than the caches hold, multiplied by one activation vector per matrix. Compares, with
// 1 and 2 threads of the persistent pool and in one process:
//   rows/4k:   the GGUF-row gemv over ordinary (4 KiB page) memory, as the file mapping gives;
//   rows/2M:   the same rows in 2 MiB huge pages;
//   panels/2M: the 16-row panels of weight_repack.h in huge pages (what decode now reads).
// Reports ms per step and GB/s of weight bytes (the bound: DRAM bandwidth).
// Usage: bench_decode_gemv [q8_0|q4_0] [layers] [dim kv hidden]
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "../src/backend/cpu/quant.h"
#include "../src/backend/cpu/quant_matvec.h"
#include "../src/backend/cpu/threadpool.h"
#include "../src/backend/cpu/weight_repack.h"
#include "../src/core/buffer.h"
#include "bench_timing.h"

using namespace paddock;
using namespace paddock::quant;

int main(int argc, char** argv) {
  const QuantType t = argc > 1 && std::strcmp(argv[1], "q4_0") == 0 ? QuantType::Q4_0 : QuantType::Q8_0;
  const int layers = argc > 2 ? std::atoi(argv[2]) : 8;
  const int dim = argc > 5 ? std::atoi(argv[3]) : 2048, kv = argc > 5 ? std::atoi(argv[4]) : 256;
  const int hid = argc > 5 ? std::atoi(argv[5]) : 5632;
  struct Shape { int rows, cols; };
  const Shape layer[] = {{dim, dim}, {kv, dim}, {kv, dim}, {dim, dim}, {hid, dim}, {hid, dim}, {dim, hid}};
  size_t total = 0;
  std::vector<size_t> off;
  for (int l = 0; l < layers; l++)
    for (const Shape& s : layer) off.push_back(total), total += quant_row_size(t, s.cols) * s.rows;
  std::printf("%s, %d layers of %dx%d / kv %d / hidden %d: %.0f MB of weights per step\n", quant_type_info(t)->name,
              layers, dim, dim, kv, hid, total / 1e6);
  if (!packed_layout_in_use(t)) std::printf("(no packed layout on this CPU: panels fall back to rows)\n");
  Buffer small, huge, panels;
  if (!small.allocate(total, "rows").ok() || !huge.allocate_huge(total, "rows").ok() ||
      !panels.allocate_huge(total, "panels").ok())
    return 1;
  // Any valid blocks will do: quantize a repeating pseudo-random float row.
  std::vector<float> xf(hid > dim ? hid : dim);
  uint64_t s = 7;
  for (float& v : xf) v = float(int((s = s * 6364136223846793005ull + 1442695040888963407ull) >> 40) % 2001 - 1000) * 1e-3f;
  const QuantKernels* ref = quant_kernels_isa(t, QuantIsa::Scalar);
  size_t k = 0;
  for (int l = 0; l < layers; l++)
    for (const Shape& sh : layer) {
      uint8_t* w = static_cast<uint8_t*>(small.data()) + off[k++];
      const size_t rb = quant_row_size(t, sh.cols);
      for (int r = 0; r < sh.rows; r++) ref->from_float(xf.data(), w + r * rb, sh.cols);
    }
  std::memcpy(huge.data(), small.data(), total);
  auto repack_all = [&] {
    size_t i = 0;
    for (int l = 0; l < layers; l++)
      for (const Shape& sh : layer) {
        repack_panels(t, static_cast<uint8_t*>(small.data()) + off[i], sh.cols, 0, sh.rows / kPackRows,
                      static_cast<uint8_t*>(panels.data()) + off[i]);
        i++;
      }
  };
  const double t0 = bench::now_s();
  repack_all();  // the first pass also faults the huge pages in
  const double t1 = bench::now_s();
  repack_all();
  std::printf("repack, 1 thread: %.0f ms first (page faults), %.0f ms again: %.2f GB/s\n", (t1 - t0) * 1e3,
              (bench::now_s() - t1) * 1e3, total / (bench::now_s() - t1) / 1e9);
  std::vector<uint8_t> act(quant_act_row_size(t, hid > dim ? hid : dim));
  std::vector<float> y(hid > dim ? hid : dim);
  for (int nth : {1, 2}) {
    ThreadPool pool(nth);
    // The packed call still names its GGUF rows (loose rows at range edges are read there).
    auto rows_of = [&](const uint8_t* pw) {
      return static_cast<const uint8_t*>(small.data()) + (pw - static_cast<const uint8_t*>(panels.data()));
    };
    auto step = [&](const Buffer& b, bool packed) {
      size_t i = 0;
      for (int l = 0; l < layers; l++)
        for (const Shape& sh : layer) {
          const uint8_t* w = static_cast<const uint8_t*>(b.data()) + off[i++];
          quant_prepare_act(t, xf.data(), sh.cols, 1, act.data());
          pool.run([&](int ith, int n) {
            int64_t p0, p1;
            split_range(sh.rows / kPackRows, ith, n, &p0, &p1);
            quant_matvec(t, packed ? rows_of(w) : w, sh.rows, sh.cols, nullptr, y.data(), int(p0) * kPackRows,
                         int(p1) * kPackRows, act.data(), packed ? w : nullptr);
          });
        }
    };
    for (int rep = 0; rep < 2; rep++) {
      const double a = bench::best_time(5, [&] { step(small, false); });
      const double b = bench::best_time(5, [&] { step(huge, false); });
      const double c = bench::best_time(5, [&] { step(panels, true); });
      std::printf("%d thread%s: rows/4k %6.2f ms %5.1f GB/s | rows/2M %6.2f ms %5.1f GB/s | panels/2M %6.2f ms %5.1f GB/s\n",
                  nth, nth > 1 ? "s" : " ", a * 1e3, total / a / 1e9, b * 1e3, total / b / 1e9, c * 1e3,
                  total / c / 1e9);
    }
  }
  return 0;
}
