// Quantized weights on the device (quant_ops.h): decode matvec, dequantization to BF16/F16,
// embedding rows. The block decoders are in quant_blocks.cuh; this file has the three kernels,
// each a template over the decoder, and the host dispatch from a DType to a decoder.
//
// matvec (decode: memory-bound, every weight byte read once per call):
//   - a block takes 4 weight rows; its 1-4 warps split the rows' chunks (thread i: chunks i,
//     i + 128, ...; a warp's 32 chunks are contiguous bytes, e.g. exactly one Q4_K block per row);
//   - each thread decodes the same chunk of the 4 rows in registers (exactly as the CPU does)
//     and dots them with up to 8 activation rows (T template 1/2/4/8, runtime nt <= T): one
//     weight read serves every token, one X read serves 4 rows;
//   - activations stay F32 (no Q8 rounding of x) and are read with float4 loads through the
//     read-only cache: X is shared by the whole grid (L1/L2-resident) and staging it in shared
//     memory would cap cols * T (a 14336-column down projection at T = 8 is 458 KB). F32 X is
//     7x the bytes of Q4_K weights, hence the 4-row reuse and chunks laid out so lanes read
//     adjacent float4s (quant_blocks.cuh);
//   - the chunk loop is unrolled twice to keep more loads in flight; warp shuffles and a
//     shared-memory pass over the block's warps finish each dot.
//   Rows per block vs warps per row: more rows per block reuse each X float4 more but multiply
//   the registers (4 rows x 16 values for Q6_K already) and shrink the grid; one warp per row
//   would make tiny blocks whose X reads are not shared. 4 rows x 4 warps gives 512 blocks of
//   128 threads for a 2048-row matrix (the smallest of TinyLlama's decode products; 5632 rows:
//   1408): 4 blocks per H100 SM, each thread with 2 x 4 rows x 2 chunks of loads in flight,
//   about 1 MB over the chip - enough to cover DRAM latency at 3.35 TB/s. The fused forms
//   (q/k/v, gate/up) only grow the grid. Fused decode forms (quant_matvec_multi/_swiglu):
//   the same kernel with up to 3 matrices in one concatenated row space, an optional RMSNorm of
//   X recomputed per block (the block first sums X's squares: cols floats from L2, against its
//   4 weight rows), `accumulate` per matrix, and a SwiGLU epilogue (a block's rows are 2 gate
//   rows and the same 2 up rows, so both dots meet in shared memory).
// dequantize_rows: one thread per chunk, each run of 4 outputs one 8-byte store, adjacent
//   threads on adjacent chunks (coalesced: 8 lanes write a contiguous 64 bytes).
// get_rows_f32: one block per id, threads over the row's chunks, float4 stores.
#include <cstdio>
#include <cstdlib>

#include "backend/cuda/quant_blocks.cuh"
#include "backend/cuda/quant_ops.h"

namespace pd_cuda {
namespace {

using namespace quantdev;
using paddock::DType;

constexpr int kMatvecRows = 4;      // rows per block: each X value loaded serves 4 rows
constexpr int kMatvecMaxWarps = 4;  // threads of a block split the row's chunks
constexpr int kMaxT = 8;
constexpr int kMatvecParts = 3;

// Up to kMatvecParts products of one X in one launch: part p owns rows [end[p-1], end[p]) of
// the concatenated row space (unused parts end where the last used one does).
struct MatvecArgs {
  const uint8_t* W[kMatvecParts];
  float* Y[kMatvecParts];  // [nt][rows of the part]; swiglu: Y[0] is H
  int64_t end[kMatvecParts];
  int accumulate[kMatvecParts];
  int64_t cols;
  size_t row_bytes;
  const float* X;      // [nt][cols]
  int nt;
  const float* norm_w; // non-null: X rows RMS-normalised on the fly (ops.h rmsnorm)
  float eps;
};

__device__ __forceinline__ int part_of(const MatvecArgs& a, int64_t row) {
  return row < a.end[0] ? 0 : row < a.end[1] ? 1 : 2;
}
__device__ __forceinline__ int64_t part_start(const MatvecArgs& a, int p) {
  return p == 0 ? 0 : p == 1 ? a.end[0] : a.end[1];
}

// kSwiglu: parts 0 and 1 are gate and up (same rows); block b takes output rows 2b, 2b+1 and
// decodes gate rows (i = 0, 1) and up rows (i = 2, 3) of them; H = silu(g) * u.
template <class D, int T, bool kSwiglu>
__global__ void __launch_bounds__(kMatvecMaxWarps * 32) matvec_kernel(MatvecArgs a) {
  __shared__ float partial[kMatvecMaxWarps][kMaxT * kMatvecRows];
  __shared__ float rstd_s[kMaxT];
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, n_warps = blockDim.x >> 5;
  const int64_t cols = a.cols, rows_total = a.end[kMatvecParts - 1];
  const int64_t row0 = (int64_t)blockIdx.x * (kSwiglu ? kMatvecRows / 2 : kMatvecRows);
  const uint8_t* w[kMatvecRows];
#pragma unroll
  for (int i = 0; i < kMatvecRows; i++) {
    int64_t g = row0 + (kSwiglu ? i % 2 : i);
    g = g < rows_total ? g : rows_total - 1;  // tail: re-read a valid row, never stored
    const int p = kSwiglu ? i / 2 : part_of(a, g);
    const uint8_t* base = p == 0 ? a.W[0] : p == 1 ? a.W[1] : a.W[2];
    w[i] = base + (kSwiglu ? g : g - part_start(a, p)) * a.row_bytes;
  }
  // The fused RMSNorm: every block first sums the squares of the nt rows of X itself (cols
  // floats from L2 per row, against the block's 4 weight rows) instead of a separate launch
  // writing a normalised copy; x' = w * (rstd * x) is then formed as X is loaded, in the CPU's
  // order, so the products see the same x' floats as ops.h rmsnorm gives. (Scaling the finished
  // dots by rstd instead would skip this pass but round differently: enough to flip F16 KV-cache
  // roundings against the prefill path.)
  const bool norm = a.norm_w != nullptr;
  float rstd[T];
#pragma unroll
  for (int t = 0; t < T; t++) rstd[t] = 1.0f;
  if (norm) {
    const bool vec4 = (cols & 3) == 0 && ((uintptr_t)a.X & 15) == 0;
    for (int t = 0; t < a.nt; t++) {
      const float* x = a.X + t * cols;
      float ss = 0.0f;
      if (vec4) {
        for (int64_t j = 4 * tid; j < cols; j += 4 * blockDim.x) {
          const float4 v = __ldg(reinterpret_cast<const float4*>(x + j));
          ss += v.x * v.x + v.y * v.y + v.z * v.z + v.w * v.w;
        }
      } else {
        for (int64_t j = tid; j < cols; j += blockDim.x) ss += x[j] * x[j];
      }
      ss = pd_warp_sum(ss);
      if (lane == 0) partial[warp][t] = ss;
    }
    __syncthreads();
    if (tid < a.nt) {
      float ss = 0.0f;
      for (int k = 0; k < n_warps; k++) ss += partial[k][tid];
      rstd_s[tid] = 1.0f / sqrtf(ss / (float)cols + a.eps);  // ops.h rmsnorm: 1 / sqrt(mean + eps)
    }
    __syncthreads();
#pragma unroll
    for (int t = 0; t < T; t++)
      if (t < a.nt) rstd[t] = rstd_s[t];
  }
  const int64_t n_chunks = cols / D::kValues;
  float acc[T][kMatvecRows];
#pragma unroll
  for (int t = 0; t < T; t++)
#pragma unroll
    for (int i = 0; i < kMatvecRows; i++) acc[t][i] = 0.0f;
#pragma unroll 2
  for (int64_t c = tid; c < n_chunks; c += blockDim.x) {
    float v[kMatvecRows][D::kValues];
#pragma unroll
    for (int i = 0; i < kMatvecRows; i++) D::decode(w[i], c, v[i]);
    const int64_t col = D::first_col(c);
#pragma unroll
    for (int t = 0; t < T; t++) {
      if (t >= a.nt) continue;
#pragma unroll
      for (int r = 0; r < D::kRuns; r++) {
#pragma unroll
        for (int j = 0; j < D::kRunLen; j += (D::kRunLen % 4 == 0 ? 4 : 1)) {
          const int64_t k = col + r * D::kRunStride + j;
          const int e = r * D::kRunLen + j;
          if constexpr (D::kRunLen % 4 == 0) {
            float4 xv = __ldg(reinterpret_cast<const float4*>(a.X + t * cols + k));
            if (norm) {  // w * (rstd * x), the CPU's order
              const float4 g = __ldg(reinterpret_cast<const float4*>(a.norm_w + k));
              xv = make_float4(g.x * (rstd[t] * xv.x), g.y * (rstd[t] * xv.y), g.z * (rstd[t] * xv.z),
                               g.w * (rstd[t] * xv.w));
            }
#pragma unroll
            for (int i = 0; i < kMatvecRows; i++)
              acc[t][i] += v[i][e] * xv.x + v[i][e + 1] * xv.y + v[i][e + 2] * xv.z + v[i][e + 3] * xv.w;
          } else {
            float xv = __ldg(a.X + t * cols + k);
            if (norm) xv = __ldg(a.norm_w + k) * (rstd[t] * xv);
#pragma unroll
            for (int i = 0; i < kMatvecRows; i++) acc[t][i] += v[i][e] * xv;
          }
        }
      }
    }
  }
  // Warp sums, then the block's warps through shared memory (every thread reaches the barrier).
#pragma unroll
  for (int t = 0; t < T; t++)
#pragma unroll
    for (int i = 0; i < kMatvecRows; i++) {
      const float s = pd_warp_sum(acc[t][i]);
      if (lane == 0) partial[warp][t * kMatvecRows + i] = s;
    }
  __syncthreads();
  auto total = [&](int idx) {
    float s = 0.0f;
    for (int k = 0; k < n_warps; k++) s += partial[k][idx];
    return s;
  };
  if constexpr (kSwiglu) {
    if (tid < a.nt * 2) {
      const int t = tid / 2, i = tid % 2;
      const int64_t r = row0 + i;
      if (r < rows_total) {
        float g = total(t * kMatvecRows + i);
        const float u = total(t * kMatvecRows + 2 + i);
        g *= 1.0f / (1.0f + expf(-g));  // ops.h silu_mul
        a.Y[0][t * rows_total + r] = g * u;
      }
    }
  } else if (tid < a.nt * kMatvecRows) {
    const int t = tid / kMatvecRows, i = tid % kMatvecRows;
    const int64_t g = row0 + i;
    if (g < rows_total) {
      const int p = part_of(a, g);
      const int64_t start = part_start(a, p), rows = (p == 0 ? a.end[0] : p == 1 ? a.end[1] : a.end[2]) - start;
      float* y = (p == 0 ? a.Y[0] : p == 1 ? a.Y[1] : a.Y[2]) + t * rows + (g - start);
      const float s = total(tid);
      *y = (p == 0 ? a.accumulate[0] : p == 1 ? a.accumulate[1] : a.accumulate[2]) ? *y + s : s;
    }
  }
}

// kRunLen values as BF16 or F16 at out (8-byte aligned when kRunLen is a multiple of 4).
template <int kRunLen, bool kBf16>
__device__ __forceinline__ void store_run_16bit(uint16_t* out, const float* v) {
  auto pack = [](float lo, float hi) { return kBf16 ? pd_pack_bf16(lo, hi) : pd_pack_f16(lo, hi); };
  if constexpr (kRunLen % 4 == 0) {
#pragma unroll
    for (int j = 0; j < kRunLen; j += 4)
      *reinterpret_cast<uint2*>(out + j) = make_uint2(pack(v[j], v[j + 1]), pack(v[j + 2], v[j + 3]));
  } else {
#pragma unroll
    for (int j = 0; j < kRunLen; j++) out[j] = (uint16_t)(pack(v[j], 0.0f) & 0xFFFFu);
  }
}

template <class D, bool kBf16>
__global__ void __launch_bounds__(256)
    dequantize_kernel(const uint8_t* W, int64_t rows, int64_t cols, size_t row_bytes, uint16_t* out) {
  const int64_t chunks_per_row = cols / D::kValues;
  const int64_t g = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (g >= rows * chunks_per_row) return;
  const int64_t row = g / chunks_per_row, c = g % chunks_per_row;
  float v[D::kValues];
  D::decode(W + row * row_bytes, c, v);
  uint16_t* o = out + row * cols + D::first_col(c);
#pragma unroll
  for (int r = 0; r < D::kRuns; r++) store_run_16bit<D::kRunLen, kBf16>(o + r * D::kRunStride, v + r * D::kRunLen);
}

template <class D>
__global__ void __launch_bounds__(128)
    get_rows_kernel(const uint8_t* W, int64_t cols, size_t row_bytes, const int32_t* ids, float* out) {
  const int64_t i = blockIdx.x;
  const uint8_t* w = W + (int64_t)ids[i] * row_bytes;
  float* o = out + i * cols;
  for (int64_t c = threadIdx.x; c < cols / D::kValues; c += blockDim.x) {
    float v[D::kValues];
    D::decode(w, c, v);
    float* dst = o + D::first_col(c);
#pragma unroll
    for (int r = 0; r < D::kRuns; r++) {
#pragma unroll
      for (int j = 0; j < D::kRunLen; j += (D::kRunLen % 4 == 0 ? 4 : 1)) {
        const float* s = v + r * D::kRunLen + j;
        if constexpr (D::kRunLen % 4 == 0)
          *reinterpret_cast<float4*>(dst + r * D::kRunStride + j) = make_float4(s[0], s[1], s[2], s[3]);
        else
          dst[r * D::kRunStride + j] = s[0];
      }
    }
  }
}

// ---- host dispatch ----

struct BlockShape {
  int64_t values = 0;  // per block; 0: unsupported type
  size_t bytes = 0;
};

BlockShape block_shape(DType t) {
  switch (t) {
    case DType::F32: return {1, 4};
    case DType::F16: return {1, 2};
    case DType::BF16: return {1, 2};
    case DType::Q8_0: return {32, 34};
    case DType::Q4_0: return {32, 18};
    case DType::Q4_1: return {32, 20};
    case DType::Q4_K: return {256, 144};
    case DType::Q5_K: return {256, 176};
    case DType::Q6_K: return {256, 210};
    default: return {};
  }
}

bool aligned16(const void* p) { return ((uintptr_t)p & 15u) == 0; }  // nullptr: an absent operand

[[noreturn]] void fail(const char* what, DType t, int64_t cols) {
  std::fprintf(stderr, "pd_cuda::%s: unsupported weight type %s or shape (cols %lld)\n", what,
               paddock::dtype_name(t), (long long)cols);
  std::abort();
}

// Calls f(D{}) with the decoder of type t for rows starting at `w`. `others_aligned`: the other
// buffers (activations, outputs) are 16-byte aligned, as device allocations are. Float types
// take the vector decoder when every row and buffer is 16-byte aligned, else the scalar one;
// quant blocks are always read with wide loads, so misaligned buffers are a caller's bug.
template <class F>
void with_decoder(const char* what, DType t, const void* w, int64_t cols, bool others_aligned, F&& f) {
  const BlockShape b = block_shape(t);
  if (b.values == 0 || cols <= 0 || cols % b.values != 0) fail(what, t, cols);
  const bool vector_ok = others_aligned && ((uintptr_t)w & 15u) == 0;
  auto quant = [&](auto dec) {
    if (!others_aligned || ((uintptr_t)w % decltype(dec)::kAlign) != 0) {
      std::fprintf(stderr, "pd_cuda::%s: misaligned buffer for %s weights\n", what, paddock::dtype_name(t));
      std::abort();
    }
    f(dec);
  };
  switch (t) {
    case DType::F32: return vector_ok && cols % 4 == 0 ? f(DecF32<4>{}) : f(DecF32<1>{});
    case DType::F16: return vector_ok && cols % 4 == 0 ? f(DecHalf<4, false>{}) : f(DecHalf<1, false>{});
    case DType::BF16: return vector_ok && cols % 4 == 0 ? f(DecHalf<4, true>{}) : f(DecHalf<1, true>{});
    case DType::Q8_0: return quant(DecQ8_0{});
    case DType::Q4_0: return quant(DecQ4_01<false>{});
    case DType::Q4_1: return quant(DecQ4_01<true>{});
    case DType::Q4_K: return quant(DecQ45_K<false>{});
    case DType::Q5_K: return quant(DecQ45_K<true>{});
    case DType::Q6_K: return quant(DecQ6_K{});
    default: fail(what, t, cols);
  }
}

template <class D, bool kSwiglu, int T>
void launch_matvec_t(const MatvecArgs& a, pd_stream_t s) {
  // One warp per 32 chunks of a row, up to 4: short rows do not leave lanes idle.
  const int64_t warps = pd_ceil_div(a.cols / D::kValues, 32);
  const int threads = 32 * (int)(warps < kMatvecMaxWarps ? warps : kMatvecMaxWarps);
  const int64_t rows_per_block = kSwiglu ? kMatvecRows / 2 : kMatvecRows;
  const dim3 grid((unsigned)pd_ceil_div(a.end[kMatvecParts - 1], rows_per_block));
  pd_launch(matvec_kernel<D, T, kSwiglu>, grid, dim3(threads), 0, s, a);
}

// Runs the products in passes of up to kMaxT activation rows: each weight read serves all of them.
template <class D, bool kSwiglu>
void launch_matvec(MatvecArgs a, int64_t T, pd_stream_t s) {
  a.row_bytes = (size_t)(a.cols / D::kBlockValues) * D::kBlockBytes;
  const float* X = a.X;
  float* Y[kMatvecParts] = {a.Y[0], a.Y[1], a.Y[2]};
  for (int64_t t0 = 0; t0 < T; t0 += kMaxT) {
    a.nt = (int)(T - t0 < kMaxT ? T - t0 : kMaxT);
    a.X = X + t0 * a.cols;
    for (int p = 0; p < kMatvecParts; p++) {
      const int64_t rows = a.end[p] - (p ? a.end[p - 1] : 0);
      a.Y[p] = kSwiglu ? (p == 0 ? Y[0] + t0 * a.end[kMatvecParts - 1] : nullptr) : Y[p] ? Y[p] + t0 * rows : nullptr;
    }
    if (a.nt == 1) launch_matvec_t<D, kSwiglu, 1>(a, s);
    else if (a.nt == 2) launch_matvec_t<D, kSwiglu, 2>(a, s);
    else if (a.nt <= 4) launch_matvec_t<D, kSwiglu, 4>(a, s);
    else launch_matvec_t<D, kSwiglu, 8>(a, s);
  }
}

}  // namespace

bool quant_supported(DType t) { return block_shape(t).values != 0; }

size_t quant_row_bytes(DType t, int64_t cols) {
  const BlockShape b = block_shape(t);
  if (b.values == 0 || cols < 0 || cols % b.values != 0) return 0;
  return (size_t)(cols / b.values) * b.bytes;
}

void quant_matvec(DType t, const void* W, int64_t rows, int64_t cols, const float* X, int64_t T, float* Y,
                  bool accumulate, pd_stream_t s) {
  const MatvecOut out{t, W, rows, Y, accumulate};
  quant_matvec_multi(&out, 1, cols, X, T, nullptr, 0.0f, s);
}

void quant_matvec_multi(const MatvecOut* outs, int n, int64_t cols, const float* X, int64_t T, const float* norm_w,
                        float eps, pd_stream_t s) {
  if (T <= 0) return;
  // Consecutive products of one weight type share a launch (a decoder is a template argument).
  for (int first = 0; first < n;) {
    int last = first + 1;
    while (last < n && last - first < kMatvecParts && outs[last].type == outs[first].type) last++;
    MatvecArgs a{};
    int64_t end = 0;
    for (int p = 0; p < kMatvecParts; p++) {
      if (first + p < last) {
        const MatvecOut& o = outs[first + p];
        end += o.rows;
        a.W[p] = static_cast<const uint8_t*>(o.W);
        a.Y[p] = o.Y;
        a.accumulate[p] = o.accumulate ? 1 : 0;
      }
      a.end[p] = end;
    }
    a.cols = cols;
    a.X = X;
    a.norm_w = norm_w;
    a.eps = eps;
    if (end > 0) {
      // Float types take the vector decoder only when every weight row of the launch is aligned.
      const void* w_check = a.W[0];
      for (int p = 1; p < last - first; p++)
        if ((uintptr_t)a.W[p] % 16 != 0) w_check = a.W[p];
      with_decoder("quant_matvec", outs[first].type, w_check, cols, aligned16(X) && aligned16(norm_w),
                   [&](auto dec) { launch_matvec<decltype(dec), false>(a, T, s); });
    }
    first = last;
  }
}

void quant_matvec_swiglu(DType t, const void* gate, const void* up, int64_t rows, int64_t cols, const float* X,
                         int64_t T, const float* norm_w, float eps, float* H, pd_stream_t s) {
  if (rows <= 0 || T <= 0) return;
  MatvecArgs a{};
  a.W[0] = static_cast<const uint8_t*>(gate);
  a.W[1] = a.W[2] = static_cast<const uint8_t*>(up);
  a.Y[0] = H;
  a.end[0] = a.end[1] = a.end[2] = rows;
  a.cols = cols;
  a.X = X;
  a.norm_w = norm_w;
  a.eps = eps;
  const void* w_check = (uintptr_t)up % 16 != 0 ? up : gate;
  with_decoder("quant_matvec_swiglu", t, w_check, cols, aligned16(X) && aligned16(norm_w),
               [&](auto dec) { launch_matvec<decltype(dec), true>(a, T, s); });
}

void dequantize_rows(DType t, const void* W, int64_t row0, int64_t rows, int64_t cols, Elem out_type, void* out,
                     pd_stream_t s) {
  if (rows <= 0) return;
  if (out_type == Elem::F32) {
    std::fprintf(stderr, "pd_cuda::dequantize_rows: output must be BF16 or F16\n");
    std::abort();
  }
  const size_t row_bytes = quant_row_bytes(t, cols);
  const uint8_t* w = static_cast<const uint8_t*>(W) + row0 * row_bytes;
  with_decoder("dequantize_rows", t, w, cols, aligned16(out), [&](auto dec) {
    using D = decltype(dec);
    const int64_t threads = rows * (cols / D::kValues);
    const dim3 grid((unsigned)pd_ceil_div(threads, 256));
    if (out_type == Elem::BF16)
      pd_launch(dequantize_kernel<D, true>, grid, dim3(256), 0, s, w, rows, cols, row_bytes, (uint16_t*)out);
    else
      pd_launch(dequantize_kernel<D, false>, grid, dim3(256), 0, s, w, rows, cols, row_bytes, (uint16_t*)out);
  });
}

void get_rows_f32(DType t, const void* W, int64_t cols, const int32_t* ids, int64_t n, float* out, pd_stream_t s) {
  if (n <= 0) return;
  const size_t row_bytes = quant_row_bytes(t, cols);
  with_decoder("get_rows_f32", t, W, cols, aligned16(out), [&](auto dec) {
    using D = decltype(dec);
    pd_launch(get_rows_kernel<D>, dim3((unsigned)n), dim3(128), 0, s, static_cast<const uint8_t*>(W), cols,
              row_bytes, ids, out);
  });
}

}  // namespace pd_cuda
