// Quantized weights on the device (quant_ops.h): decode matvec, dequantization to BF16/F16,
// embedding rows. The block decoders are in quant_blocks.cuh; this file has the three kernels,
// each a template over the decoder, and the host dispatch from a DType to a decoder.
//
// matvec (decode: memory-bound, every weight byte read once per call):
//   - a block takes 4 rows; its 1-4 warps split the rows' chunks (thread i: chunks i, i + 128,
//     ...; a warp's 32 chunks are contiguous bytes, e.g. exactly one Q4_K block per row);
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

template <class D, int T>
__global__ void __launch_bounds__(kMatvecMaxWarps * 32)
    matvec_kernel(const uint8_t* W, int64_t rows, int64_t cols, size_t row_bytes, const float* X, int nt, float* Y,
                  int accumulate) {
  __shared__ float partial[kMatvecMaxWarps][kMaxT * kMatvecRows];
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, n_warps = blockDim.x >> 5;
  const int64_t row0 = (int64_t)blockIdx.x * kMatvecRows;
  const uint8_t* w[kMatvecRows];
#pragma unroll
  for (int i = 0; i < kMatvecRows; i++) w[i] = W + (row0 + i < rows ? row0 + i : rows - 1) * row_bytes;  // tail: re-read
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
    const float* x = X + D::first_col(c);
#pragma unroll
    for (int t = 0; t < T; t++) {
      if (t >= nt) continue;
#pragma unroll
      for (int r = 0; r < D::kRuns; r++) {
#pragma unroll
        for (int j = 0; j < D::kRunLen; j += (D::kRunLen % 4 == 0 ? 4 : 1)) {
          const float* xp = x + t * cols + r * D::kRunStride + j;
          const int e = r * D::kRunLen + j;
          if constexpr (D::kRunLen % 4 == 0) {
            const float4 xv = __ldg(reinterpret_cast<const float4*>(xp));
#pragma unroll
            for (int i = 0; i < kMatvecRows; i++)
              acc[t][i] += v[i][e] * xv.x + v[i][e + 1] * xv.y + v[i][e + 2] * xv.z + v[i][e + 3] * xv.w;
          } else {
            const float xv = __ldg(xp);
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
  if (tid < nt * kMatvecRows) {
    const int t = tid / kMatvecRows, i = tid % kMatvecRows;
    if (row0 + i < rows) {
      float s = 0.0f;
      for (int k = 0; k < n_warps; k++) s += partial[k][tid];
      float* y = Y + (int64_t)t * rows + row0 + i;
      *y = accumulate ? *y + s : s;
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

bool aligned16(const void* p) { return ((uintptr_t)p & 15u) == 0; }

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

template <class D, int T>
void launch_matvec(const uint8_t* W, int64_t rows, int64_t cols, const float* X, int nt, float* Y, bool acc,
                   pd_stream_t s) {
  const size_t row_bytes = (size_t)(cols / D::kBlockValues) * D::kBlockBytes;
  // One warp per 32 chunks of a row, up to 4: short rows do not leave lanes idle.
  const int64_t warps = pd_ceil_div(cols / D::kValues, 32);
  const int threads = 32 * (int)(warps < kMatvecMaxWarps ? warps : kMatvecMaxWarps);
  const dim3 grid((unsigned)pd_ceil_div(rows, kMatvecRows));
  pd_launch(matvec_kernel<D, T>, grid, dim3(threads), 0, s, W, rows, cols, row_bytes, X, nt, Y, acc ? 1 : 0);
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
  if (rows <= 0 || T <= 0) return;
  with_decoder("quant_matvec", t, W, cols, aligned16(X), [&](auto dec) {
    using D = decltype(dec);
    // Chunks of up to kMaxT activation rows: each weight read serves all of them.
    for (int64_t t0 = 0; t0 < T; t0 += kMaxT) {
      const int nt = (int)(T - t0 < kMaxT ? T - t0 : kMaxT);
      const float* x = X + t0 * cols;
      float* y = Y + t0 * rows;
      const uint8_t* w = static_cast<const uint8_t*>(W);
      if (nt == 1) launch_matvec<D, 1>(w, rows, cols, x, nt, y, accumulate, s);
      else if (nt == 2) launch_matvec<D, 2>(w, rows, cols, x, nt, y, accumulate, s);
      else if (nt <= 4) launch_matvec<D, 4>(w, rows, cols, x, nt, y, accumulate, s);
      else launch_matvec<D, 8>(w, rows, cols, x, nt, y, accumulate, s);
    }
  });
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
