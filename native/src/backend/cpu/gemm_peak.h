// The machine's achieved float GEMM rate, the denominator of the training MFU figure: the faster
// of Paddock's two float GEMM families on a large square-ish problem with all threads of the
// pool — the forward (matmul() on an F32 weight: the table's gemm_f32) and the backward's packed
// GEMM (matmul_input_grad), which is register-blocked differently and runs faster. Taking the
// best keeps MFU <= 100% for float work; int8 (VNNI) forward dots of quantized bases can beat it.
#pragma once

namespace paddock {

class ThreadPool;

// FLOP/s (2 per multiply-add) of the fastest of repeated y = x W^T and dx = dy W runs, W 2048 x
// 2048 F32, 256 tokens, within about seconds_budget seconds (at least two timed runs of each
// after a warm-up).
// Best-of rather than mean: other work on the machine only ever slows a run down.
double measure_gemm_flops(ThreadPool& pool, double seconds_budget);

}  // namespace paddock
