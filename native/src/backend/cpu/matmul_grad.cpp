// The backward GEMMs as one packed, register-blocked product out[M, N] (+)= A[M, K] B[K, N]:
//   input grad   dx = dy W      M = tokens, K = W's outputs, B rows = W rows (any weight type)
//   weight grad  dW += dy^T x   M = W's outputs, K = tokens, B rows = x rows
// A thread owns a rectangle of out. It walks K in slivers of the table's kc: the A rows of a
// pass are packed once per sliver (k-major, mr per block), and B is packed (converted or
// dequantized, a panel of columns at a time, never the whole matrix) into nr-wide slivers that
// stay in L1 while every A block passes by; the table's tile does the multiply-adds.
// Each out element is one chain over k in order (see matmul_grad_kernels.h), so results do not
// depend on the thread count, and a weight's values are exactly get_row_f32's.
#include "backend/cpu/matmul_grad.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "backend/cpu/kernels.h"
#include "backend/cpu/matmul_grad_kernels.h"
#include "backend/cpu/quant.h"
#include "backend/cpu/threadpool.h"

namespace paddock {

namespace {

// Rows of out per pass (a multiple of every mr): their packed A (288 KiB at AVX-512's kc) sits in
// L2 and is reused by every B sliver; B is packed once per pass, i.e. once per call up to 576
// tokens. (Revisiting a smaller out block per k sliver, to keep it in L2, measured slower: A
// then has to be packed again for every block.)
constexpr int64_t kRowsPerPass = 576;
// Columns of B packed at once: a multiple of every table's nr and of the quant super-block, so
// panels start on a block boundary unless the thread's range does not.
constexpr int64_t kPanelCols = 256;

// n floats of 64-byte aligned per-thread scratch (grown, never shrunk: no allocation per call in
// steady state).
float* scratch(std::vector<float>& v, int64_t n) {
  if ((int64_t)v.size() < n + 16) v.resize((size_t)(n + 16));
  return (float*)(((uintptr_t)v.data() + 63) & ~(uintptr_t)63);
}

// Asks for the cache lines of [p, p + bytes) ahead of use. Each packed B row is a short piece
// of a long row, in a different page from the last, which the hardware prefetchers do not
// follow: without this every row waits on memory.
inline void prefetch_range(const void* p, size_t bytes) {
#if defined(__GNUC__)
  for (size_t off = 0; off < bytes; off += 64) __builtin_prefetch((const char*)p + off);
#else
  (void)p, (void)bytes;
#endif
}

// B rows of the input grad: W's rows, as get_row_f32 reads them, a column range at a time.
struct WeightRows {
  const Tensor& W;
  quant::to_float_fn to_float = nullptr;  // quant types
  int64_t block = 1;                      // elements per block (1 for float types)
  size_t block_bytes = 0;

  WeightRows(const GradGemmKernels& kt, const Tensor& w) : W(w) {
    if (!dtype_is_float(W.type)) {
      const quant::QuantKernels* q = quant::quant_kernels((quant::QuantType)(uint32_t)W.type);
      to_float = kt.simd_to_float ? kt.simd_to_float(W.type) : nullptr;
      if (!to_float && q) to_float = q->to_float;
    }
    if (const DTypeInfo* info = dtype_info((uint32_t)W.type)) block = info->block_size, block_bytes = info->type_size;
  }
  bool readable() const { return dtype_is_float(W.type) || (to_float && block_bytes && W.ne[0] % block == 0); }
  // Scratch floats get() may use for nc columns.
  int64_t tmp_floats(int64_t nc) const { return nc + 2 * block; }

  void prefetch(int64_t k, int64_t c0, int64_t nc) const {
    const int64_t b0 = c0 / block, b1 = (c0 + nc + block - 1) / block;
    prefetch_range(W.row(k) + b0 * block_bytes, (size_t)(b1 - b0) * block_bytes);
  }

  // Columns [c0, c0 + nc) of row k as floats (into tmp, or pointing into W for F32). Quant rows
  // are dequantized whole blocks at a time (blocks are independent, so the values are those of
  // the full row).
  const float* get(int64_t k, int64_t c0, int64_t nc, float* tmp) const {
    const uint8_t* row = W.row(k);
    switch (W.type) {
      case DType::F32:
        return (const float*)row + c0;
      case DType::F16:
        cpu_kernels().f16_to_f32((const uint16_t*)row + c0, tmp, nc);
        return tmp;
      case DType::BF16:
        cpu_kernels().bf16_to_f32((const uint16_t*)row + c0, tmp, nc);
        return tmp;
      default: {
        const int64_t b0 = c0 / block, b1 = (c0 + nc + block - 1) / block;
        to_float(row + b0 * block_bytes, tmp, (b1 - b0) * block);
        return tmp + (c0 - b0 * block);
      }
    }
  }
};

// B rows of the weight grad: a row-major F32 matrix.
struct DenseRows {
  const float* x;
  int64_t ld;
  int64_t tmp_floats(int64_t) const { return 0; }
  void prefetch(int64_t k, int64_t c0, int64_t nc) const { prefetch_range(x + k * ld + c0, (size_t)nc * 4); }
  const float* get(int64_t k, int64_t c0, int64_t, float*) const { return x + k * ld + c0; }
};

// The product's operands: A(m, k) = a[m * a_rs + k * a_ks]; out is [M, N] row-major.
struct Problem {
  int64_t M, N, K;
  const float* a;
  int64_t a_rs, a_ks;
  float* out;
  bool accumulate;
};

// Rows prefetched ahead while packing: a packed row piece is a few hundred bytes of work, memory
// latency a few hundred cycles.
constexpr int64_t kAhead = 8;

// A rows [m0, m0 + mc) x k [k0, k0 + kc) into blocks of mr rows, k-major; rows past m_end are 0.
// Reads follow whichever of A's dimensions is contiguous (input grad: a_ks == 1, k along dy's
// rows; weight grad: a_rs == 1, m along dy's rows), with no division in the inner loops: for
// the skinny LoRA shapes packing A costs as much as the multiply-adds.
void pack_a(const Problem& p, int mr, int64_t m0, int64_t mc, int64_t m_end, int64_t k0, int64_t kc, float* dst) {
  const int64_t mc_padded = (mc + mr - 1) / mr * mr;
  if (p.a_ks == 1) {
    for (int64_t j = 0; j < mc_padded; j++) {
      const int64_t m = m0 + j;
      float* d = dst + (j / mr) * mr * kc + j % mr;
      if (m + kAhead < m_end) prefetch_range(p.a + (m + kAhead) * p.a_rs + k0, (size_t)kc * sizeof(float));
      if (m >= m_end) {
        for (int64_t k = 0; k < kc; k++) d[k * mr] = 0.0f;
        continue;
      }
      const float* src = p.a + m * p.a_rs + k0;
      for (int64_t k = 0; k < kc; k++) d[k * mr] = src[k];
    }
    return;
  }
  for (int64_t k = 0; k < kc; k++) {
    if (k + kAhead < kc) prefetch_range(p.a + (k0 + k + kAhead) * p.a_ks + m0 * p.a_rs, (size_t)mc * sizeof(float));
    const float* src = p.a + (k0 + k) * p.a_ks;
    for (int64_t rb = 0; rb < mc_padded; rb += mr) {
      float* d = dst + rb * kc + k * mr;
      for (int r = 0; r < mr; r++) d[r] = m0 + rb + r < m_end ? src[(m0 + rb + r) * p.a_rs] : 0.0f;
    }
  }
}

// B rows [k0, k0 + kc) x columns [c0, c0 + nc) into nr-wide slivers, k-major, zero-padded.
template <class Rows>
void pack_b(const Rows& rows, int nr, int64_t k0, int64_t kc, int64_t c0, int64_t nc, float* tmp, float* dst) {
  for (int64_t k = 0; k < kAhead && k < kc; k++) rows.prefetch(k0 + k, c0, nc);
  for (int64_t k = 0; k < kc; k++) {
    if (k + kAhead < kc) rows.prefetch(k0 + k + kAhead, c0, nc);
    const float* src = rows.get(k0 + k, c0, nc, tmp);
    for (int64_t s = 0; s < nc; s += nr) {
      float* d = dst + s * kc + k * nr;
      const int64_t n = nc - s < nr ? nc - s : nr;
      std::memcpy(d, src + s, (size_t)n * sizeof(float));
      for (int64_t c = n; c < nr; c++) d[c] = 0.0f;
    }
  }
}

// out rows [m_begin, m_end) x columns [n_begin, n_end), on the calling thread.
template <class Rows>
void gemm_block(const GradGemmKernels& kt, const Problem& p, const Rows& rows, int64_t m_begin, int64_t m_end,
                int64_t n_begin, int64_t n_end) {
  thread_local std::vector<float> a_buf, b_buf, row_buf;
  const int mr = kt.mr, nr = kt.nr;
  float* tmp = scratch(row_buf, rows.tmp_floats(kPanelCols));
  for (int64_t m0 = m_begin; m0 < m_end; m0 += kRowsPerPass) {
    const int64_t mc = m_end - m0 < kRowsPerPass ? m_end - m0 : kRowsPerPass;
    float* ap = scratch(a_buf, (mc + mr - 1) / mr * mr * kt.kc);
    float* bp = scratch(b_buf, kPanelCols * kt.kc);
    for (int64_t k0 = 0; k0 < p.K; k0 += kt.kc) {
      const int64_t kc = p.K - k0 < kt.kc ? p.K - k0 : kt.kc;
      pack_a(p, mr, m0, mc, m_end, k0, kc, ap);
      const bool load = p.accumulate || k0 > 0;  // later slivers continue the chain in out
      for (int64_t c0 = n_begin; c0 < n_end; c0 += kPanelCols) {
        const int64_t nc = n_end - c0 < kPanelCols ? n_end - c0 : kPanelCols;
        pack_b(rows, nr, k0, kc, c0, nc, tmp, bp);
        for (int64_t s = 0; s < nc; s += nr) {
          const int cols = (int)(nc - s < nr ? nc - s : nr);
          for (int64_t rb = 0; rb < mc; rb += mr) {
            const int n_rows = (int)(mc - rb < mr ? mc - rb : mr);
            kt.tile(ap + rb * kc, bp + s * kc, kc, p.out + (m0 + rb) * p.N + c0 + s, p.N, n_rows, cols, load);
          }
        }
      }
    }
  }
}

// How many column ranges to split over nth threads: the most that divides nth and still gives
// every range two tile widths; the threads of one column range split its rows. Column ranges
// come first because each thread then converts only its own part of B.
int column_parts(int64_t N, int nr, int nth) {
  const int64_t blocks = (N + nr - 1) / nr;
  for (int pc = nth; pc > 1; pc--)
    if (nth % pc == 0 && blocks >= 2 * (int64_t)pc) return pc;
  return 1;
}

template <class Rows>
void gemm(const GradGemmKernels& kt, ThreadPool* pool, const Problem& p, const Rows& rows) {
  if (p.M <= 0 || p.N <= 0) return;
  if (p.K <= 0) {  // an empty sum
    if (!p.accumulate) std::memset(p.out, 0, (size_t)(p.M * p.N) * sizeof(float));
    return;
  }
  if (!pool || pool->size() == 1 || (double)p.M * p.N * p.K < kParallelMinWork) {
    gemm_block(kt, p, rows, 0, p.M, 0, p.N);
    return;
  }
  pool->run([&](int ith, int nth) {
    const int pc = column_parts(p.N, kt.nr, nth), pr = nth / pc;
    int64_t cb0, cb1, rb0, rb1;
    split_range((p.N + kt.nr - 1) / kt.nr, ith % pc, pc, &cb0, &cb1);
    split_range((p.M + kt.mr - 1) / kt.mr, ith / pc, pr, &rb0, &rb1);
    const int64_t n0 = cb0 * kt.nr, n1 = cb1 * kt.nr < p.N ? cb1 * kt.nr : p.N;
    const int64_t m0 = rb0 * kt.mr, m1 = rb1 * kt.mr < p.M ? rb1 * kt.mr : p.M;
    if (m0 < m1 && n0 < n1) gemm_block(kt, p, rows, m0, m1, n0, n1);
  });
}

}  // namespace

void matmul_input_grad_with(const GradGemmKernels& k, ThreadPool* pool, const Tensor& W, const float* dy, int64_t T,
                            float* dx, bool accumulate) {
  const int64_t n_in = W.ne[0], n_out = W.ne[1];
  const WeightRows rows(k, W);
  if (!rows.readable()) {  // a type get_row_f32 cannot read either: make it loud, not silently 0
    for (int64_t i = 0; i < T * n_in; i++) dx[i] = NAN;
    return;
  }
  gemm(k, pool, Problem{T, n_in, n_out, dy, n_out, 1, dx, accumulate}, rows);
}

void matmul_weight_grad_with(const GradGemmKernels& k, ThreadPool* pool, const float* dy, const float* x, int64_t T,
                             int64_t n_out, int64_t n_in, float* dW) {
  gemm(k, pool, Problem{n_out, n_in, T, dy, 1, n_out, dW, true}, DenseRows{x, n_in});
}

void matmul_input_grad(ThreadPool* pool, const Tensor& W, const float* dy, int64_t T, float* dx, bool accumulate) {
  matmul_input_grad_with(grad_gemm_kernels(), pool, W, dy, T, dx, accumulate);
}

void matmul_weight_grad(ThreadPool* pool, const float* dy, const float* x, int64_t T, int64_t n_out, int64_t n_in,
                        float* dW) {
  matmul_weight_grad_with(grad_gemm_kernels(), pool, dy, x, T, n_out, n_in, dW);
}

}  // namespace paddock
