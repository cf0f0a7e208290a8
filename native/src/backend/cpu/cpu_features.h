// Which SIMD instruction sets this CPU (and its OS) lets us use, read once from cpuid/XCR0.
// Every run-time kernel choice (float kernels, quant kernels) asks here, so they always agree.
// PADDOCK_CPU_ISA=scalar|avx2|avx512 can lower the level (debugging, A/B timing), never raise it.
#pragma once

namespace paddock {

struct CpuFeatures {
  bool avx2 = false;         // AVX2 + FMA + F16C, OS saves ymm
  bool avx512 = false;       // AVX-512 F/BW/VL/DQ, OS saves zmm and opmask state
  bool avx512_vnni = false;  // vpdpbusd on 512/256-bit registers
  bool avx512_bf16 = false;  // vdpbf16ps
  const char* best_name() const { return avx512 ? "avx512" : avx2 ? "avx2" : "scalar"; }
};

const CpuFeatures& cpu_features();

}  // namespace paddock
