// quant_matvec / quant_matmul: shape checks, activation preparation and the row loops over the
// dispatched dot kernels. See quant_matvec.h for the threading contract.
#include "quant_matvec.h"

#include <cstdint>
#include <vector>

#include "quant.h"
#include "weight_repack.h"

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

// Splits [b, e) into rows before the first whole panel, whole panels, and rows after; calls
// rows_fn(r0, r1) for the loose rows and panels_fn(p0, p1) for the panels (none when packed is
// null or not in use for the type).
template <class RowsFn, class PanelsFn>
void by_panels(QuantType type, const void* packed, int b, int e, RowsFn&& rows_fn, PanelsFn&& panels_fn) {
  const int p0 = (b + kPackRows - 1) / kPackRows, p1 = e / kPackRows;
  if (!packed || p0 >= p1 || !packed_layout_in_use(type)) {
    if (b < e) rows_fn(b, e);
    return;
  }
  if (b < p0 * kPackRows) rows_fn(b, p0 * kPackRows);
  panels_fn(p0, p1);
  if (p1 * kPackRows < e) rows_fn(p1 * kPackRows, e);
}

// This thread's buffer for panels unpacked back to GGUF rows (the GEMM reads rows).
unsigned char* unpack_buffer(size_t bytes) {
  thread_local std::vector<unsigned char> buf;
  if (buf.size() < bytes) buf.resize(bytes);
  return buf.data();
}

// Rows per unpacked chunk for the GEMM: ~512 KiB (stays in L2 while the GEMM reads it), whole
// panels, at least one. Larger chunks spread the GEMM's per-call activation setup thinner.
int unpack_chunk_panels(size_t w_row_bytes) {
  const size_t per_panel = w_row_bytes * kPackRows;
  const size_t n = (size_t(512) << 10) / per_panel;
  return n > 0 ? int(n) : 1;
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
                         int row_begin, int row_end, const void* scratch, const void* packed) {
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
  const char* w = static_cast<const char*>(W);
  by_panels(
      type, packed, row_begin, row_end,
      [&](int r0, int r1) {
        if (plan.weights->gemv) return plan.weights->gemv(cols, W, plan.w_row_bytes, r0, r1, scratch, y, rows_work(cols, 1));
        const vec_dot_fn dot = plan.weights->vec_dot;
        for (int r = r0; r < r1; r++) y[r] = dot(cols, w + size_t(r) * plan.w_row_bytes, scratch);
      },
      [&](int p0, int p1) { packed_gemv(type, cols, packed, p0, p1, scratch, y, rows_work(cols, 1)); });
  return QuantStatus::Ok;
}

QuantStatus quant_matmul(QuantType type, const void* W, int rows, int cols, const float* X, int n_act,
                         float* Y, int row_begin, int row_end, const void* scratch, const void* packed) {
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
    auto gemm_rows = [&](const void* rows_at, int r0, int r1, float* Yr) {
      plan.weights->gemm(cols, rows_at, plan.w_row_bytes, r0, r1, act, plan.a_row_bytes, n_act, Yr, size_t(rows),
                         rows_work(cols, n_act));
    };
    const int chunk = unpack_chunk_panels(plan.w_row_bytes);
    by_panels(
        type, packed, row_begin, row_end, [&](int r0, int r1) { gemm_rows(W, r0, r1, Y); },
        [&](int p0, int p1) {
          unsigned char* tmp = unpack_buffer(size_t(chunk) * kPackRows * plan.w_row_bytes);
          for (int c0 = p0; c0 < p1; c0 += chunk) {
            const int c1 = c0 + chunk < p1 ? c0 + chunk : p1;
            unpack_panels(type, packed, cols, c0, c1, tmp);
            gemm_rows(tmp, 0, (c1 - c0) * kPackRows, Y + size_t(c0) * kPackRows);
          }
        });
    return QuantStatus::Ok;
  }
  if (plan.weights->gemv) {
    void* work = rows_work(cols, 1);
    for (int a = 0; a < n_act; a++) {
      const char* xa = act + size_t(a) * plan.a_row_bytes;
      float* ya = Y + size_t(a) * rows;
      by_panels(
          type, packed, row_begin, row_end,
          [&](int r0, int r1) { plan.weights->gemv(cols, W, plan.w_row_bytes, r0, r1, xa, ya, work); },
          [&](int p0, int p1) { packed_gemv(type, cols, packed, p0, p1, xa, ya, work); });
    }
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
