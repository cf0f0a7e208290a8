// Quantized matmul: see matmul_quant.h.
#include "backend/cpu/matmul_quant.h"

#include <vector>

#include "backend/cpu/ops.h"
#include "backend/cpu/quant.h"
#include "backend/cpu/quant_matvec.h"
#include "backend/cpu/threadpool.h"

namespace paddock {

// Below this many multiply-adds a job runs on the calling thread: waking workers costs more.
static constexpr double kParallelMinWork = 128.0 * 1024.0;

bool dtype_is_quant_matrix(DType t) {
  if (dtype_is_float(t)) return false;
  const quant::QuantKernels* k = quant::quant_kernels((quant::QuantType)(uint32_t)t);
  return k && k->vec_dot;
}

int64_t dtype_block_size(DType t) {
  const DTypeInfo* info = dtype_info((uint32_t)t);
  return info ? info->block_size : 0;
}

// Quantized weights: the activations are quantized once (on the calling thread, which is
// worker 0) into the weight type's vec_dot_type, then every worker runs the integer dot
// products over its own rows. The shape was checked at load (ne[0] a multiple of the block).
void matmul_quant(ThreadPool* pool, const Tensor& W, const float* x, int64_t T, float* y) {
  const quant::QuantType qt = (quant::QuantType)(uint32_t)W.type;
  const int cols = (int)W.ne[0], rows = (int)W.ne[1];
  thread_local std::vector<unsigned char> act;
  const size_t act_row = quant::quant_act_row_size(qt, cols);
  if (act.size() < act_row * (size_t)T) act.resize(act_row * (size_t)T);
  quant::quant_prepare_act(qt, x, cols, (int)T, act.data());
  const unsigned char* scratch = act.data();
  auto run = [&](int64_t r0, int64_t r1) {
    if (T == 1) {
      quant::quant_matvec(qt, W.data, rows, cols, x, y, (int)r0, (int)r1, scratch);
    } else {
      quant::quant_matmul(qt, W.data, rows, cols, x, (int)T, y, (int)r0, (int)r1, scratch);
    }
  };
  const double work = (double)W.ne[0] * (double)W.ne[1] * (double)T;
  if (!pool || pool->size() == 1 || work < kParallelMinWork) {
    run(0, rows);
    return;
  }
  pool->run([&](int ith, int nth) {
    int64_t r0, r1;
    split_range(rows, ith, nth, &r0, &r1);
    run(r0, r1);
  });
}

}  // namespace paddock
