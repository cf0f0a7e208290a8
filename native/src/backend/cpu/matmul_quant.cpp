// Quantized matmul: see matmul_quant.h.
#include "backend/cpu/matmul_quant.h"

#include <vector>

#include "backend/cpu/ops.h"
#include "backend/cpu/quant.h"
#include "backend/cpu/quant_matvec.h"
#include "backend/cpu/threadpool.h"
#include "backend/cpu/weight_repack.h"

namespace paddock {

// Most matrices one group call takes (Q/K/V, gate/up: 3 is plenty; more go in batches).
static constexpr int kMaxGroup = 8;

bool dtype_is_quant_matrix(DType t) {
  if (dtype_is_float(t)) return false;
  const quant::QuantKernels* k = quant::quant_kernels((quant::QuantType)(uint32_t)t);
  return k && k->vec_dot;
}

int64_t dtype_block_size(DType t) {
  const DTypeInfo* info = dtype_info((uint32_t)t);
  return info ? info->block_size : 0;
}

namespace {

// One matrix of a group: its weights, output and the prepared activation it reads.
struct GroupItem {
  quant::QuantType type;
  const void* data;
  int rows;
  float* y;
  const unsigned char* act;
  const void* packed;  // Tensor::packed when it still belongs to data, else null
};

void run_rows(const GroupItem& g, int cols, const float* x, int64_t T, int64_t r0, int64_t r1) {
  if (r0 >= r1) return;
  if (T == 1) {
    quant::quant_matvec(g.type, g.data, g.rows, cols, x, g.y, (int)r0, (int)r1, g.act, g.packed);
  } else {
    quant::quant_matmul(g.type, g.data, g.rows, cols, x, (int)T, g.y, (int)r0, (int)r1, g.act, g.packed);
  }
}

// Rows [b, e) of the concatenation of all items' rows, mapped back to each item.
void run_concat_range(const GroupItem* items, int n, int cols, const float* x, int64_t T, int64_t b, int64_t e) {
  int64_t base = 0;
  for (int i = 0; i < n && base < e; i++) {
    const int64_t lo = b > base ? b - base : 0;
    const int64_t hi = e - base < items[i].rows ? e - base : items[i].rows;
    run_rows(items[i], cols, x, T, lo, hi);
    base += items[i].rows;
  }
}

}  // namespace

void matmul_quant_group(ThreadPool* pool, const Tensor* const* W, float* const* y, int n, const float* x,
                        int64_t T) {
  for (; n > kMaxGroup; n -= kMaxGroup, W += kMaxGroup, y += kMaxGroup)
    matmul_quant_group(pool, W, y, kMaxGroup, x, T);
  if (n <= 0) return;
  const int cols = (int)W[0]->ne[0];
  // One scratch per distinct vec_dot_type (Q8_0, Q8_1, Q8_K): at most three in practice.
  thread_local std::vector<unsigned char> act[kMaxGroup];
  quant::QuantType act_type[kMaxGroup];
  int n_act = 0;
  GroupItem items[kMaxGroup];
  int64_t total_rows = 0;
  for (int i = 0; i < n; i++) {
    const quant::QuantType qt = (quant::QuantType)(uint32_t)W[i]->type;
    const quant::QuantType vt = quant::quant_kernels(qt)->vec_dot_type;
    int slot = 0;
    while (slot < n_act && act_type[slot] != vt) slot++;
    if (slot == n_act) {
      const size_t bytes = quant::quant_act_row_size(qt, cols) * (size_t)T;
      if (act[slot].size() < bytes) act[slot].resize(bytes);
      quant::quant_prepare_act(qt, x, cols, (int)T, act[slot].data());
      act_type[n_act++] = vt;
    }
    const void* packed = W[i]->packed_from == W[i]->data ? W[i]->packed : nullptr;
    items[i] = {qt, W[i]->data, (int)W[i]->ne[1], y[i], act[slot].data(), packed};
    total_rows += items[i].rows;
  }
  const double work = (double)cols * (double)total_rows * (double)T;
  if (!pool || pool->size() == 1 || work < kParallelMinWork) {
    run_concat_range(items, n, cols, x, T, 0, total_rows);
    return;
  }
  // Threads get whole 16-row panels where the row count allows (repacked weights are read in
  // panels; a split inside one would send its rows back to the file-layout copy).
  const int64_t unit = total_rows % quant::kPackRows == 0 ? quant::kPackRows : 1;
  pool->run([&](int ith, int nth) {
    int64_t r0, r1;
    split_range(total_rows / unit, ith, nth, &r0, &r1);
    run_concat_range(items, n, cols, x, T, r0 * unit, r1 * unit);
  });
}

void matmul_quant(ThreadPool* pool, const Tensor& W, const float* x, int64_t T, float* y) {
  const Tensor* w = &W;
  matmul_quant_group(pool, &w, &y, 1, x, T);
}

}  // namespace paddock
