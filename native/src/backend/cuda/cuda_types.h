// Element types and small shape structs shared by the CUDA kernels' host launchers (*.h beside
// each .cu). Host-compilable: orchestration .cpp files include the launchers, never device code.
#pragma once

#include <cstddef>
#include <cstdint>

#include "backend/cuda/gpu_runtime.h"

namespace pd_cuda {

enum class Elem { F32, BF16, F16 };

inline size_t elem_bytes(Elem e) { return e == Elem::F32 ? 4 : 2; }

}  // namespace pd_cuda
