// The machine's achieved F32 GEMM rate, the denominator of the training MFU figure: Paddock's
// own best forward GEMM (matmul() on an F32 weight, i.e. the table's gemm_f32) on a large
// square-ish problem, all threads of the pool.
#pragma once

namespace paddock {

class ThreadPool;

// FLOP/s (2 per multiply-add) of the fastest of repeated y = x W^T runs, W 2048 x 2048 F32,
// 256 tokens, within about seconds_budget seconds (at least two timed runs after a warm-up).
// Best-of rather than mean: other work on the machine only ever slows a run down.
double measure_gemm_flops(ThreadPool& pool, double seconds_budget);

}  // namespace paddock
