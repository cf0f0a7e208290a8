// PLACEHOLDER (helper A replaces this file).
#include "backend/cuda/gemm.h"
#include <cstdio>
#include <cstdlib>
namespace pd_cuda {
void gemm(const GemmDesc&, pd_stream_t) { std::fprintf(stderr, "gemm: not written yet\n"); std::abort(); }
}  // namespace pd_cuda
