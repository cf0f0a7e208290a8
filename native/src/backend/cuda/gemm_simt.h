// The CUDA-core GEMM for F32 operands (gemm_simt.cu), reached through pd_cuda::gemm (gemm.h),
// which sends every ab == F32 product here. Internal to the gemm files.
#pragma once

#include "backend/cuda/gemm.h"

namespace pd_cuda {

// d.ab and d.c are F32; any op, shape and leading dimensions.
void gemm_f32_simt(const GemmDesc& d, pd_stream_t s);

}  // namespace pd_cuda
