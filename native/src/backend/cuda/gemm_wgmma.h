// The Hopper GEMM (gemm_wgmma.cu, sm_90a only): the NT, NN and TN products of GemmDesc (gemm.h)
// with BF16/F16 operands on wgmma, F32 accumulation, F32/BF16/F16 output.
// gemm() picks it by itself on a sm_90 device whose probe passed (probe.h: wgmma_enabled());
// calling it elsewhere is for the emulated tests (or a GPU without sm_90a code: a launch error).
#pragma once

#include <string>

#include "backend/cuda/gemm.h"

namespace pd_cuda {

// The shapes the kernel takes: any op, ab BF16 or F16, 1 <= M, N, K <= INT32_MAX (any leading
// dimensions and alignments; ragged edges are zero-filled).
bool gemm_wgmma_supported(const GemmDesc& d);
void gemm_wgmma(const GemmDesc& d, pd_stream_t s);

// The start-up check of the wgmma path (probe.cu runs it on sm_9.x devices): a 128x128x128 BF16
// product through gemm_wgmma in each layout (NT, NN, TN) against the host's exact result. False
// with *why on a mismatch (naming the layout: one failing layout turns all of wgmma off) or a
// launch failure (e.g. no sm_90a code for this GPU).
bool wgmma_self_test(std::string* why);

}  // namespace pd_cuda
