// Quantized weights on the device (backend/cuda/quant_ops.h) against the CPU backend, for every
// supported type: matrices are quantized by the CPU's reference quantizers (row_from_f32: the
// bytes llama.cpp writes), uploaded as they are, and
//   - quant_matvec (T = 1, 3, 8, 11; = and +=) is compared with the double-precision dot of the
//     CPU-dequantized rows, and with paddock::matmul (the CPU's own quantized product);
//   - dequantize_rows (BF16, F16; a row offset) must equal the CPU's dequantized values rounded
//     the same way, bit for bit;
//   - get_rows_f32 must equal get_row_f32 bit for bit;
// with guard bands around every output. Shapes are small and ragged (37 rows: not a multiple of
// the 4 rows a matvec block takes; a 93-column float matrix takes the unaligned scalar path;
// longer rows use all 4 warps of a matvec block, with a ragged last round).
// On a real GPU a 2048 x 5632 / 5632 x 2048 Q4_K and F16 matvec is also checked and timed.
#include <chrono>
#include <cstdint>
#include <random>
#include <vector>

#include "backend/cpu/ops.h"
#include "backend/cuda/quant_ops.h"
#include "core/fp16.h"
#include "cuda_testing.h"

using paddock::DType;

namespace {

struct Case {
  DType type;
  int64_t rows, cols;
};

// A [rows][cols] matrix with a per-row magnitude spread (quantizers see varied block scales).
std::vector<float> random_matrix(std::mt19937& rng, int64_t rows, int64_t cols) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> m((size_t)(rows * cols));
  for (int64_t r = 0; r < rows; r++) {
    const float scale = 0.05f + 2.0f * (float)((r * 7) % 11) / 11.0f;
    for (int64_t c = 0; c < cols; c++) m[(size_t)(r * cols + c)] = u(rng) * scale;
  }
  return m;
}

struct HostWeights {
  std::vector<uint8_t> bytes;       // GGUF rows
  std::vector<float> dequantized;   // the CPU's dequantization of those rows
  paddock::Tensor tensor;
};

HostWeights quantize(DType t, const std::vector<float>& m, int64_t rows, int64_t cols) {
  HostWeights w;
  const size_t rb = pd_cuda::quant_row_bytes(t, cols);
  w.bytes.resize(rb * (size_t)rows);
  for (int64_t r = 0; r < rows; r++) CHECK(paddock::row_from_f32(t, &m[(size_t)(r * cols)], &w.bytes[rb * r], cols));
  w.tensor = paddock::make_tensor("w", t, w.bytes.data(), cols, rows);
  w.dequantized.resize(m.size());
  for (int64_t r = 0; r < rows; r++) paddock::get_row_f32(w.tensor, r, &w.dequantized[(size_t)(r * cols)]);
  return w;
}

void check_matvec(const Case& c, const HostWeights& w, const uint8_t* dW, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (int64_t T : {1, 3, 8, 11}) {
    std::vector<float> x((size_t)(T * c.cols)), y0((size_t)(T * c.rows));
    for (float& v : x) v = u(rng);
    for (float& v : y0) v = u(rng);
    // The exact product of the dequantized weights (double): the device dequantizes the same
    // values, so only float summation order differs: nmse ~1e-13, bound 1e-10.
    std::vector<double> exact((size_t)(T * c.rows));
    for (int64_t t = 0; t < T; t++)
      for (int64_t r = 0; r < c.rows; r++) {
        double s = 0;
        for (int64_t k = 0; k < c.cols; k++)
          s += (double)w.dequantized[(size_t)(r * c.cols + k)] * (double)x[(size_t)(t * c.cols + k)];
        exact[(size_t)(t * c.rows + r)] = s;
      }
    std::vector<float> cpu((size_t)(T * c.rows));
    paddock::matmul(nullptr, w.tensor, x.data(), T, cpu.data());

    cudatest::DeviceArray<float> dX(x.size()), dY(cpu.size());
    dX.upload(x);
    pd_cuda::quant_matvec(c.type, dW, c.rows, c.cols, dX.get(), T, dY.get(), false, nullptr);
    CHECK(pd_gpu::check_launch("quant_matvec"));
    const std::vector<float> got = dY.download();
    char what[96];
    std::snprintf(what, sizeof what, "%s %lldx%lld T=%lld matvec vs exact", paddock::dtype_name(c.type),
                  (long long)c.rows, (long long)c.cols, (long long)T);
    cudatest::check_close(what, got, exact, 1e-10);
    // The CPU quantizes x to 8 bits per block for quant weights (relative error up to 1/254 per
    // value, nmse ~1e-5); float weights it multiplies in float (nmse ~1e-13).
    std::snprintf(what, sizeof what, "%s T=%lld matvec vs paddock::matmul", paddock::dtype_name(c.type), (long long)T);
    cudatest::check_close(what, got, cpu, paddock::dtype_is_float(c.type) ? 1e-10 : 1e-4);

    dY.upload(y0);
    pd_cuda::quant_matvec(c.type, dW, c.rows, c.cols, dX.get(), T, dY.get(), true, nullptr);
    CHECK(pd_gpu::check_launch("quant_matvec accumulate"));
    std::vector<double> want_acc(exact);
    for (size_t i = 0; i < want_acc.size(); i++) want_acc[i] += y0[i];
    std::snprintf(what, sizeof what, "%s T=%lld matvec accumulate", paddock::dtype_name(c.type), (long long)T);
    cudatest::check_close(what, dY.download(), want_acc, 1e-10);
    CHECK(dY.guards_intact());
  }
}

// Exact: the device computes the CPU dequantizer's operations and rounds like fp32_to_bf16/fp16.
void check_dequantize(const Case& c, const HostWeights& w, const uint8_t* dW) {
  const int64_t row0 = 3, rows = c.rows - row0;
  for (pd_cuda::Elem e : {pd_cuda::Elem::BF16, pd_cuda::Elem::F16}) {
    const bool bf16 = e == pd_cuda::Elem::BF16;
    cudatest::DeviceArray<uint16_t> out((size_t)(rows * c.cols));
    pd_cuda::dequantize_rows(c.type, dW, row0, rows, c.cols, e, out.get(), nullptr);
    CHECK(pd_gpu::check_launch("dequantize_rows"));
    const std::vector<uint16_t> got = out.download();
    size_t mismatches = 0, first = 0;
    for (size_t i = 0; i < got.size(); i++) {
      const float v = w.dequantized[(size_t)(row0 * c.cols) + i];
      const uint16_t want = bf16 ? paddock::fp32_to_bf16(v) : paddock::fp32_to_fp16(v);
      if (got[i] != want && mismatches++ == 0) first = i;
    }
    std::printf("  %-48s %zu of %zu differ%s\n",
                (std::string(paddock::dtype_name(c.type)) + (bf16 ? " dequantize_rows bf16" : " dequantize_rows f16")).c_str(),
                mismatches, got.size(), mismatches ? "  <-- FAIL" : "");
    CHECK_MSG(mismatches == 0, "first at %zu", first);
    CHECK(out.guards_intact());
  }
}

void check_get_rows(const Case& c, const HostWeights& w, const uint8_t* dW) {
  const int32_t n = (int32_t)c.rows;
  const std::vector<int32_t> ids = {n - 1, 0, 17 % n, 17 % n, 5 % n};  // any order, repeats
  cudatest::DeviceArray<int32_t> dids(ids.size());
  dids.upload(ids);
  cudatest::DeviceArray<float> out(ids.size() * (size_t)c.cols);
  pd_cuda::get_rows_f32(c.type, dW, c.cols, dids.get(), (int64_t)ids.size(), out.get(), nullptr);
  CHECK(pd_gpu::check_launch("get_rows_f32"));
  const std::vector<float> got = out.download();
  std::vector<float> want(got.size());
  for (size_t i = 0; i < ids.size(); i++) paddock::get_row_f32(w.tensor, ids[i], &want[i * (size_t)c.cols]);
  size_t mismatches = 0;
  for (size_t i = 0; i < got.size(); i++) mismatches += std::memcmp(&got[i], &want[i], 4) != 0;
  std::printf("  %-48s %zu of %zu differ%s\n", (std::string(paddock::dtype_name(c.type)) + " get_rows_f32").c_str(),
              mismatches, got.size(), mismatches ? "  <-- FAIL" : "");
  CHECK(mismatches == 0);
  CHECK(out.guards_intact());
}

void run_case(const Case& c, std::mt19937& rng) {
  CHECK(pd_cuda::quant_supported(c.type));
  size_t cpu_bytes = 0;
  CHECK(paddock::dtype_row_bytes(c.type, c.cols, &cpu_bytes) && cpu_bytes == pd_cuda::quant_row_bytes(c.type, c.cols));
  const HostWeights w = quantize(c.type, random_matrix(rng, c.rows, c.cols), c.rows, c.cols);
  cudatest::DeviceArray<uint8_t> dW(w.bytes.size());
  dW.upload(w.bytes);
  check_matvec(c, w, dW.get(), rng);
  check_dequantize(c, w, dW.get());
  check_get_rows(c, w, dW.get());
}

// Real GPU only: a decode-sized product, checked and timed. The weights are uploaded in enough
// copies (>= 256 MB) that cycling through them defeats the 50 MB L2: the bandwidth printed is
// DRAM's, the figure to hold against the GPU's peak (H100 SXM: 3.35 TB/s).
void bench_matvec(DType t, int64_t rows, int64_t cols, int64_t T, std::mt19937& rng) {
  const HostWeights w = quantize(t, random_matrix(rng, rows, cols), rows, cols);
  const size_t bytes = w.bytes.size();
  const int copies = (int)((256u << 20) / bytes + 1);
  cudatest::DeviceArray<uint8_t> dW(bytes * copies);
  for (int i = 0; i < copies; i++) pd_gpu::copy_h2d(dW.get() + bytes * i, w.bytes.data(), bytes);
  std::vector<float> x((size_t)(T * cols));
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (float& v : x) v = u(rng);
  std::vector<double> exact((size_t)(T * rows));
  for (int64_t tt = 0; tt < T; tt++)
    for (int64_t r = 0; r < rows; r++) {
      double s = 0;
      for (int64_t k = 0; k < cols; k++)
        s += (double)w.dequantized[(size_t)(r * cols + k)] * (double)x[(size_t)(tt * cols + k)];
      exact[(size_t)(tt * rows + r)] = s;
    }
  cudatest::DeviceArray<float> dX(x.size()), dY((size_t)(T * rows));
  dX.upload(x);
  pd_cuda::quant_matvec(t, dW.get() + bytes * (copies - 1), rows, cols, dX.get(), T, dY.get(), false, nullptr);
  char what[96];
  std::snprintf(what, sizeof what, "%s %lldx%lld T=%lld matvec (GPU size)", paddock::dtype_name(t), (long long)rows,
                (long long)cols, (long long)T);
  cudatest::check_close(what, dY.download(), exact, 1e-10);
  const int iters = 4 * copies;
  pd_gpu::Timer timer;
  double ms = 0;
  pd_gpu::timer_start(&timer);
  for (int i = 0; i < iters; i++)
    pd_cuda::quant_matvec(t, dW.get() + bytes * (i % copies), rows, cols, dX.get(), T, dY.get(), false, nullptr);
  pd_gpu::timer_stop_ms(&timer, &ms);
  CHECK(pd_gpu::check_launch("quant_matvec bench"));
  const double us = ms * 1000.0 / iters;
  std::printf("    %.2f us per call, %.0f GB/s of weights from DRAM\n", us, (double)bytes / (us * 1e3));
}

}  // namespace

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // lines reach the log even if a launch aborts
  cudatest::require_device("test_cuda_quant");
  const auto start = std::chrono::steady_clock::now();
  std::mt19937 rng(1234);
  const std::vector<Case> cases = {
      {DType::F32, 37, 96},  {DType::F32, 37, 93},  {DType::F16, 37, 96},  {DType::F16, 37, 93},
      {DType::BF16, 37, 96}, {DType::BF16, 37, 93}, {DType::Q8_0, 37, 96}, {DType::Q4_0, 37, 96},
      {DType::Q4_1, 37, 96}, {DType::Q4_K, 37, 512}, {DType::Q5_K, 37, 512}, {DType::Q6_K, 37, 512},
      // Rows long enough for a matvec block's 4 warps, with a ragged last round of chunks.
      {DType::F16, 37, 520}, {DType::Q4_0, 37, 1056}, {DType::Q6_K, 9, 2304},
  };
  for (const Case& c : cases) run_case(c, rng);
  CHECK(!pd_cuda::quant_supported(DType::Q2_K));
  CHECK(pd_cuda::quant_row_bytes(DType::Q4_K, 100) == 0);  // not whole blocks
  if (!cudatest::emulated()) {
    for (DType t : {DType::Q4_K, DType::F16, DType::Q6_K, DType::Q8_0, DType::Q4_0}) {
      bench_matvec(t, 2048, 5632, 1, rng);
      bench_matvec(t, 5632, 2048, 1, rng);
    }
    bench_matvec(DType::Q4_K, 5632, 2048, 4, rng);
    bench_matvec(DType::Q4_K, 5632, 2048, 8, rng);
  }
  std::printf("  (%.1f s)\n", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return pdtest::finish("test_cuda_quant");
}
