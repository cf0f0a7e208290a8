// Device-to-device copy bandwidth: the denominator of the decode roofline (issue 7: decode
// tokens/s as a share of weight bytes per token / this bandwidth). A cudaMemcpy between two
// large buffers (default 2 GiB each, far beyond the 50 MB L2 of an H100) timed with device
// events; bytes moved = read + written = 2 * size. Median of --reps copies after a warm-up.
// Usage: bench_cuda_bandwidth [--mib 2048] [--reps 20]
// Output: one JSON line {"bench": "bandwidth", "device", "bytes", "gbps_median", "gbps_best"}.
#include "bench_cuda_common.h"

int main(int argc, char** argv) {
  using namespace benchcuda;
  const Flags flags(argc, argv);
  const pd_gpu::DeviceProps dev = require_gpu("bench_cuda_bandwidth");
  const size_t bytes = (size_t)flags.num("--mib", 2048) << 20;
  const int reps = (int)std::max(3LL, flags.num("--reps", 20));
  const std::vector<double> gbps = measure_d2d_gbps(bytes, reps);
  if (gbps.empty()) return 1;
  JsonLine("bandwidth")
      .add("device", dev.name)
      .add("bytes", (long long)bytes)
      .add("reps", reps)
      .add("gbps_median", median(gbps))
      .add("gbps_best", *std::max_element(gbps.begin(), gbps.end()))
      .print();
  return 0;
}
