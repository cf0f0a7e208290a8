// IEEE binary16 <-> binary32. The scalar forms are exact (round-to-nearest-even, subnormals,
// inf, NaN made quiet) so they give the same bits as the F16C instructions; the row forms pick
// F16C at run time. Block scales are converted one at a time with the scalar forms in
// reference code and with F16C inside SIMD kernels.
#pragma once

#include <cstdint>
#include <cstring>

#include "../../core/fp16.h"
#include "quant_blocks.h"

namespace paddock::quant {

// The exact scalar conversions are the engine's one implementation (core/fp16.h).
using paddock::fp16_to_fp32;
using paddock::fp32_to_fp16;

// fp16_to_fp32 of all 65536 halves (256 KiB, built on first call; thread-safe). The SIMD
// kernels read block scales through it: a broadcast load from the table is a pure load,
// while F16C's register form competes with the kernel's shuffles for the same port.
const float* fp16_table();

// Row conversions; F16C when the CPU has it.
void fp16_to_fp32_row(const f16_t* x, float* y, int64_t n);
void fp32_to_fp16_row(const float* x, f16_t* y, int64_t n);

}  // namespace paddock::quant
