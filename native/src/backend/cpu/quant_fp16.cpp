// Row conversions between fp16 and fp32 (F16C when the CPU has it, exact scalar otherwise; both
// give identical bits) and the fp16 -> fp32 table the SIMD kernels read block scales through.
#include "quant_fp16.h"

#include <vector>

#include "quant.h"
#include "quant_kernels.h"

namespace paddock::quant {

const float* fp16_table() {
  static const std::vector<float> table = [] {
    std::vector<float> t(65536);
    for (uint32_t h = 0; h < 65536; h++) t[h] = fp16_to_fp32(f16_t(h));
    return t;
  }();
  return table.data();
}

void fp16_to_fp32_row(const f16_t* x, float* y, int64_t n) {
#if defined(PADDOCK_QUANT_X86)
  if (quant_best_isa() == QuantIsa::AVX2) return avx2::fp16_to_fp32_row(x, y, n);
#endif
  for (int64_t i = 0; i < n; i++) y[i] = fp16_to_fp32(x[i]);
}

void fp32_to_fp16_row(const float* x, f16_t* y, int64_t n) {
#if defined(PADDOCK_QUANT_X86)
  if (quant_best_isa() == QuantIsa::AVX2) return avx2::fp32_to_fp16_row(x, y, n);
#endif
  for (int64_t i = 0; i < n; i++) y[i] = fp32_to_fp16(x[i]);
}

}  // namespace paddock::quant
