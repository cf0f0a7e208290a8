// quant_matvec / quant_matmul: shape checks, activation preparation and the row loops over the
// dispatched dot kernels. See quant_matvec.h for the threading contract.
#include "quant_matvec.h"

#include <cstdint>
#include <vector>

#include "quant.h"

namespace paddock::quant {

namespace {

struct Plan {
  const QuantKernels* weights;     // kernels of the weight type (vec_dot, vec_dot_multi)
  const QuantKernels* activation;  // kernels of its vec_dot_type (from_float)
  size_t w_row_bytes;
  size_t a_row_bytes;
};

QuantStatus make_plan(QuantType type, int cols, Plan* plan) {
  const QuantKernels* k = quant_kernels(type);
  if (!k || !k->vec_dot) return QuantStatus::UnsupportedType;
  const QuantKernels* ak = quant_kernels(k->vec_dot_type);
  if (!ak || !ak->from_float) return QuantStatus::UnsupportedType;
  const QuantTypeInfo* wi = quant_type_info(type);
  const QuantTypeInfo* ai = quant_type_info(k->vec_dot_type);
  // Both the weight and its activation format must tile the row (Q8_K needs 256 even when
  // the weight block is smaller, which never happens with the pairs we support).
  if (cols <= 0 || cols % wi->block_size || cols % ai->block_size) return QuantStatus::BadShape;
  plan->weights = k;
  plan->activation = ak;
  plan->w_row_bytes = quant_row_size(type, cols);
  plan->a_row_bytes = quant_row_size(k->vec_dot_type, cols);
  return QuantStatus::Ok;
}

// Batches at least this large use the GEMM kernel (it repacks weight panels, which pays off
// only when enough tokens share them: measured break-even ~16 on Sapphire Rapids); smaller
// ones run the gemv kernel once per token, or vec_dot_multi.
constexpr int kGemmMinBatch = 16;

// This thread's scratch for the gemv/gemm kernels, 64-byte aligned.
void* rows_work(int cols, int n_act) {
  thread_local std::vector<unsigned char> buf;
  const size_t need = quant_rows_work_bytes(cols, n_act) + 64;
  if (buf.size() < need) buf.resize(need);
  const uintptr_t p = reinterpret_cast<uintptr_t>(buf.data());
  return reinterpret_cast<void*>((p + 63) & ~uintptr_t(63));
}

QuantStatus check_rows(int rows, int row_begin, int row_end) {
  if (rows <= 0 || row_begin < 0 || row_end > rows || row_begin > row_end) return QuantStatus::BadRange;
  return QuantStatus::Ok;
}

}  // namespace

size_t quant_rows_work_bytes(int n, int n_act) {
  // gemm: a 16-row weight panel (at most 720 bytes per 32 columns: Q6_K's), then at most 12
  // bytes of per-token terms per 32 columns and token.
  const size_t nb = size_t(n > 0 ? n : 0) / QK;
  return nb * 720 + nb * 12 * size_t(n_act > 0 ? n_act : 1);
}

const char* quant_status_message(QuantStatus s) {
  switch (s) {
    case QuantStatus::Ok: return "ok";
    case QuantStatus::UnsupportedType: return "tensor type has no CPU dot-product kernel";
    case QuantStatus::BadShape:
      return "row length must be a positive multiple of the block size (32; 256 for K-quants)";
    case QuantStatus::BadRange: return "row range outside the matrix (or empty matrix / batch)";
    case QuantStatus::NullArgument: return "null pointer argument";
  }
  return "unknown status";
}

size_t quant_act_row_size(QuantType weight_type, int cols) {
  Plan plan;
  if (make_plan(weight_type, cols, &plan) != QuantStatus::Ok) return 0;
  return plan.a_row_bytes;
}

QuantStatus quant_prepare_act(QuantType weight_type, const float* x, int cols, int n_act, void* scratch) {
  Plan plan;
  if (QuantStatus s = make_plan(weight_type, cols, &plan); s != QuantStatus::Ok) return s;
  if (n_act <= 0) return QuantStatus::BadRange;
  if (!x || !scratch) return QuantStatus::NullArgument;
  char* out = static_cast<char*>(scratch);
  for (int a = 0; a < n_act; a++)
    plan.activation->from_float(x + size_t(a) * cols, out + size_t(a) * plan.a_row_bytes, cols);
  return QuantStatus::Ok;
}

QuantStatus quant_matvec(QuantType type, const void* W, int rows, int cols, const float* x, float* y,
                         int row_begin, int row_end, const void* scratch) {
  Plan plan;
  if (QuantStatus s = make_plan(type, cols, &plan); s != QuantStatus::Ok) return s;
  if (QuantStatus s = check_rows(rows, row_begin, row_end); s != QuantStatus::Ok) return s;
  if (!W || !y || (!x && !scratch)) return QuantStatus::NullArgument;
  std::vector<unsigned char> own;
  if (!scratch && plan.weights->vec_dot_type == QuantType::F32) {
    scratch = x;  // float activations need no preparation
  } else if (!scratch) {
    own.resize(plan.a_row_bytes);
    plan.activation->from_float(x, own.data(), cols);
    scratch = own.data();
  }
  if (plan.weights->gemv && row_begin < row_end) {
    plan.weights->gemv(cols, W, plan.w_row_bytes, row_begin, row_end, scratch, y, rows_work(cols, 1));
    return QuantStatus::Ok;
  }
  const char* w = static_cast<const char*>(W);
  const vec_dot_fn dot = plan.weights->vec_dot;
  for (int r = row_begin; r < row_end; r++) y[r] = dot(cols, w + size_t(r) * plan.w_row_bytes, scratch);
  return QuantStatus::Ok;
}

QuantStatus quant_matmul(QuantType type, const void* W, int rows, int cols, const float* X, int n_act,
                         float* Y, int row_begin, int row_end, const void* scratch) {
  Plan plan;
  if (QuantStatus s = make_plan(type, cols, &plan); s != QuantStatus::Ok) return s;
  if (QuantStatus s = check_rows(rows, row_begin, row_end); s != QuantStatus::Ok) return s;
  if (n_act <= 0) return QuantStatus::BadRange;
  if (!W || !Y || (!X && !scratch)) return QuantStatus::NullArgument;
  std::vector<unsigned char> own;
  if (!scratch) {
    own.resize(plan.a_row_bytes * size_t(n_act));
    quant_prepare_act(type, X, cols, n_act, own.data());
    scratch = own.data();
  }
  const char* w = static_cast<const char*>(W);
  const char* act = static_cast<const char*>(scratch);
  if (row_begin == row_end) return QuantStatus::Ok;
  if (plan.weights->gemm && n_act >= kGemmMinBatch) {
    plan.weights->gemm(cols, W, plan.w_row_bytes, row_begin, row_end, act, plan.a_row_bytes, n_act, Y, size_t(rows),
                       rows_work(cols, n_act));
    return QuantStatus::Ok;
  }
  if (plan.weights->gemv) {
    void* work = rows_work(cols, 1);
    for (int a = 0; a < n_act; a++)
      plan.weights->gemv(cols, W, plan.w_row_bytes, row_begin, row_end, act + size_t(a) * plan.a_row_bytes,
                         Y + size_t(a) * rows, work);
    return QuantStatus::Ok;
  }
  const vec_dot_multi_fn multi = plan.weights->vec_dot_multi;
  // A tile of weight rows (~16 KiB) stays in L1 while every group of kMaxBatch activation rows
  // passes over it; the group's activation rows stay in L1/L2 across the tile.
  const int tile = plan.w_row_bytes >= 16384 ? 1 : int(16384 / plan.w_row_bytes);
  float out[kMaxBatch];
  for (int r0 = row_begin; r0 < row_end; r0 += tile) {
    const int r1 = r0 + tile < row_end ? r0 + tile : row_end;
    for (int a = 0; a < n_act; a += kMaxBatch) {
      const int na = n_act - a < kMaxBatch ? n_act - a : kMaxBatch;
      const char* ag = act + size_t(a) * plan.a_row_bytes;
      for (int r = r0; r < r1; r++) {
        multi(cols, w + size_t(r) * plan.w_row_bytes, ag, plan.a_row_bytes, na, out);
        for (int i = 0; i < na; i++) Y[size_t(a + i) * rows + r] = out[i];
      }
    }
  }
  return QuantStatus::Ok;
}

}  // namespace paddock::quant
