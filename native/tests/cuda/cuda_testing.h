// Shared by the CUDA op tests (tests/cuda/test_cuda_*.cpp, each built twice: against the real
// module, where it skips with the reason when no GPU is usable, and against the emulator, where
// it always runs): the device check, device buffers, and the comparison metrics the issue
// asks for (normalized MSE, NaN/Inf, guard bands around outputs).
#pragma once

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "backend/cuda/gpu_runtime.h"
#include "backend/cuda/probe.h"
#include "testing.h"

namespace cudatest {

// Exits 77 (ctest: skipped) with the reason when there is no usable device.
inline void require_device(const char* test) {
  std::string why;
  if (pd_gpu::device_count(&why) == 0) {
    std::printf("%s: SKIPPED (no GPU: %s)\n", test, why.c_str());
    std::exit(pdtest::kSkip);
  }
  pd_gpu::DeviceProps p;
  if (pd_gpu::device_props(0, &p, &why)) std::printf("%s: on %s\n", test, p.name.c_str());
  if (!pd_gpu::set_device(0, &why) || !pd_cuda::probe_device(&why)) {
    std::printf("%s: FAILED to start: %s\n", test, why.c_str());
    std::exit(1);
  }
}

inline bool emulated() {
  pd_gpu::DeviceProps p;
  std::string why;
  return pd_gpu::device_props(0, &p, &why) && p.emulated;
}

// A device allocation with `guard` extra elements on each side filled with a sentinel, so an
// out-of-bounds write is caught by guards_intact().
template <class T>
struct DeviceArray {
  static constexpr size_t kGuard = 64;
  T* base = nullptr;
  size_t n = 0;
  explicit DeviceArray(size_t count) : n(count) {
    base = (T*)pd_gpu::device_malloc((n + 2 * kGuard) * sizeof(T));
    std::vector<unsigned char> fill((n + 2 * kGuard) * sizeof(T), 0x7B);
    pd_gpu::copy_h2d(base, fill.data(), fill.size());
  }
  ~DeviceArray() { pd_gpu::device_free(base); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  T* get() const { return base + kGuard; }
  void upload(const std::vector<T>& h) { pd_gpu::copy_h2d(get(), h.data(), h.size() * sizeof(T)); }
  std::vector<T> download() const {
    std::vector<T> h(n);
    pd_gpu::synchronize();
    pd_gpu::copy_d2h(h.data(), get(), n * sizeof(T));
    return h;
  }
  bool guards_intact() const {
    std::vector<unsigned char> g(kGuard * sizeof(T));
    for (int side = 0; side < 2; side++) {
      pd_gpu::copy_d2h(g.data(), side ? get() + n : base, g.size());
      for (unsigned char c : g)
        if (c != 0x7B) return false;
    }
    return true;
  }
};

// sum((a - b)^2) / sum(b^2) (llama.cpp's test-backend-ops metric); NaN/Inf in `a` counted.
struct Compare {
  double nmse = 0;
  size_t non_finite = 0;
  double max_abs = 0;
};
template <class A, class B>
inline Compare compare(const std::vector<A>& got, const std::vector<B>& want) {
  Compare c;
  double num = 0, den = 0;
  for (size_t i = 0; i < got.size() && i < want.size(); i++) {
    const double g = (double)got[i], w = (double)want[i];
    if (!std::isfinite(g)) {
      c.non_finite++;
      continue;
    }
    num += (g - w) * (g - w);
    den += w * w;
    c.max_abs = std::fmax(c.max_abs, std::fabs(g - w));
  }
  c.nmse = den > 0 ? num / den : num;
  return c;
}

// One CHECK for a comparison: finite, within the normalized MSE bound; prints the figures.
template <class A, class B>
inline void check_close(const char* what, const std::vector<A>& got, const std::vector<B>& want, double max_nmse) {
  const Compare c = compare(got, want);
  const bool ok = c.non_finite == 0 && c.nmse <= max_nmse && got.size() == want.size();
  std::printf("  %-48s nmse %.3g (bound %.1g) max|d| %.3g%s\n", what, c.nmse, max_nmse, c.max_abs,
              ok ? "" : "  <-- FAIL");
  CHECK(ok);
}

}  // namespace cudatest
