// Inference attention over the F16 KV cache (attention_kv in attention.h): decode (T = 1) and
// prefill chunks, causal, grouped-query, any head_dim <= 256.
//
// Design (flash-decoding, SIMT): one warp owns one query row (t, h), four rows a block; the
// four warps of a block are neighbouring heads of one token, so GQA groups read the same K/V
// rows through L1. A warp streams its keys 32 at a time with an online softmax (attn::
// warp_attend_row: lane j scores key j with 16-byte loads of its K row; the chunk's
// probabilities are then applied to V rows read coalesced, lane i owning dims i, i+32, ...), so
// no score row is kept. When there are few rows (decode) and many positions, the positions are
// split over blockIdx.y (chunks of a multiple of 32 keys): each split writes its partial
// (max, sum, unnormalised output) to a scratch buffer and a second kernel merges the splits
// with their max/sum rescaling. attention_kv_decode (the forward's kMatvecTokens path, graph
// replay) reads pos0 on the device and fixes the split count by the context length: splits
// past the position find no keys and write (-inf, 0), which the merge weighs by zero. The scratch is a lazily grown device buffer owned by this file
// (attention_kv calls must therefore not run concurrently on two streams). Prefill chunks of
// 16+ queries with head_dim 64 / 128 go to the tensor-core forward instead (attention_fwd_mma.cuh,
// F16 operands: the queries are rounded to F16 on load).
#include <algorithm>
#include <mutex>

#include "backend/cuda/attention.h"
#include "backend/cuda/attention_fwd_mma.cuh"

namespace pd_cuda {
namespace {

constexpr int kWarps = 4;

struct KvArgs {
  const float* q;
  const pd_half* k;
  const pd_half* v;
  float* out;
  float2* part_ml;   // [splits][rows] (max, sum) when split
  float* part_acc;   // [splits][rows][hd] when split
  const int32_t* pos0_dev;  // non-null: pos0 read on the device (graph replay), not from pos0
  int64_t T, pos0, kv_dim, chunk;
  int n_heads, group, hd, splits;
  float scale;
  bool vec16;
};

__global__ void __launch_bounds__(kWarps * 32) attention_kv_kernel(KvArgs a) {
  __shared__ float q_s[kWarps][attn::kMaxHeadDim];
  __shared__ float p_s[kWarps][32];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t rows = a.T * a.n_heads, row = (int64_t)blockIdx.x * kWarps + warp;
  if (row >= rows) return;  // whole warps only; this kernel has no block barrier
  const int64_t t = row / a.n_heads;
  const int h = (int)(row % a.n_heads), kvh = h / a.group, split = blockIdx.y;
  const int64_t n_pos = (a.pos0_dev ? (int64_t)*a.pos0_dev : a.pos0) + t + 1;
  const int64_t lo = (int64_t)split * a.chunk, hi = min(n_pos, lo + a.chunk) - 1;  // lo > hi: an empty split

  const float* q = a.q + row * a.hd;  // row (t, h) is at t * n_heads * hd + h * hd
  for (int d = lane; d < a.hd; d += 32) q_s[warp][d] = q[d] * a.scale;
  __syncwarp();
  attn::RowSoftmax st;
  if (lo <= hi)
    attn::warp_attend_row(q_s[warp], a.k + kvh * a.hd, a.v + kvh * a.hd, a.kv_dim, a.hd, lo, hi, a.vec16,
                          p_s[warp], st);
  const float l = pd_warp_sum(st.l_lane);
  if (a.splits == 1) {
    const float inv = 1.0f / l;
ATTN_UNROLL
    for (int i = 0; i < attn::kDimsPerLane; i++)
      if (lane + 32 * i < a.hd) a.out[row * a.hd + lane + 32 * i] = st.acc[i] * inv;
    return;
  }
  const int64_t slot = (int64_t)split * rows + row;
  if (lane == 0) a.part_ml[slot] = make_float2(st.m, l);  // (-inf, 0) for a split past this row's keys
ATTN_UNROLL
  for (int i = 0; i < attn::kDimsPerLane; i++)
    if (lane + 32 * i < a.hd) a.part_acc[slot * a.hd + lane + 32 * i] = st.acc[i];
}

// One warp a row: out = sum_s acc_s e^(m_s - M) / sum_s l_s e^(m_s - M), M the max of the m_s.
__global__ void __launch_bounds__(kWarps * 32) attention_kv_merge_kernel(const float2* part_ml, const float* part_acc,
                                                                          float* out, int64_t rows, int hd,
                                                                          int splits) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t row = (int64_t)blockIdx.x * kWarps + warp;
  if (row >= rows) return;
  float m = -INFINITY;
  for (int s = 0; s < splits; s++) m = fmaxf(m, part_ml[s * rows + row].x);  // split 0 always has keys
  float l = 0.0f, acc[attn::kDimsPerLane] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int s = 0; s < splits; s++) {
    const float2 ml = part_ml[s * rows + row];
    const float w = __expf(ml.x - m);
    l += ml.y * w;
    const float* pa = part_acc + (s * rows + row) * hd;
ATTN_UNROLL
    for (int i = 0; i < attn::kDimsPerLane; i++)
      if (lane + 32 * i < hd) acc[i] += pa[lane + 32 * i] * w;
  }
  const float inv = 1.0f / l;
ATTN_UNROLL
  for (int i = 0; i < attn::kDimsPerLane; i++)
    if (lane + 32 * i < hd) out[row * hd + lane + 32 * i] = acc[i] * inv;
}

// The split partials' buffer, grown on demand (freeing waits for the device, so growth is rare
// and only happens on the first long decode).
void* split_scratch(size_t bytes) {
  static std::mutex mu;
  static void* buf = nullptr;
  static size_t cap = 0;
  std::lock_guard<std::mutex> lock(mu);
  if (bytes > cap) {
    pd_gpu::synchronize();
    if (buf) pd_gpu::device_free(buf);
    cap = bytes + bytes / 2;
    buf = pd_gpu::device_malloc(cap);
    if (!buf) cap = 0;
  }
  return buf;
}

// Prefill chunks of 16+ queries with head_dim 64 / 128 run on tensor cores
// (attention_fwd_mma.cuh: 64-query tiles, F16 operands, F32 accumulate and output).
bool prefill_on_tensor_cores(const AttnDims& d, const float* q, const pd_half* k, const pd_half* v,
                             const float* out) {
  auto aligned = [](const void* p, uintptr_t n) { return (uintptr_t)p % n == 0; };
  return d.T >= 16 && (d.head_dim == 64 || d.head_dim == 128) && aligned(q, 8) && aligned(out, 8) && aligned(k, 16) &&
         aligned(v, 16);
}

// Split the positions only while the grid is small (decode, short prefill): aim at ~1024
// blocks, never fewer than 128 keys a split (the merge then costs less than it saves).
// Returns the split count for up to n_max keys, *chunk the keys a split (a multiple of 32).
int64_t split_plan(int64_t rows, int64_t n_max, int64_t* chunk) {
  const int64_t row_blocks = pd_ceil_div(rows, kWarps);
  int64_t splits = std::min<int64_t>(pd_ceil_div(n_max, 128), std::max<int64_t>(1, 1024 / row_blocks));
  splits = std::max<int64_t>(1, std::min<int64_t>(splits, 256));
  *chunk = pd_ceil_div(pd_ceil_div(n_max, splits), 32) * 32;
  return pd_ceil_div(n_max, *chunk);
}

size_t split_bytes(int64_t splits, int64_t rows, int hd) {
  return (size_t)(splits * rows) * sizeof(float2) + (size_t)(splits * rows * hd) * sizeof(float);
}

void set_partials(KvArgs* a, char* scratch, int64_t splits, int64_t rows) {
  a->part_ml = (float2*)scratch;
  a->part_acc = (float*)(scratch + (size_t)(splits * rows) * sizeof(float2));
}

KvArgs kv_args(const AttnDims& d, const float* q, const pd_half* k_cache, const pd_half* v_cache, float* out) {
  KvArgs a{};
  a.q = q;
  a.k = k_cache;
  a.v = v_cache;
  a.out = out;
  a.T = d.T;
  a.n_heads = d.n_heads;
  a.group = d.n_heads / d.n_kv_heads;
  a.hd = d.head_dim;
  a.kv_dim = (int64_t)d.n_kv_heads * d.head_dim;
  a.scale = d.scale;
  a.vec16 = d.head_dim % 8 == 0 && ((uintptr_t)k_cache % 16) == 0;
  return a;
}

void launch_kv(const KvArgs& a, int64_t row_blocks, int64_t rows, pd_stream_t s) {
  pd_launch(attention_kv_kernel, dim3((unsigned)row_blocks, (unsigned)a.splits), dim3(kWarps * 32), 0, s, a);
  if (a.splits > 1)
    pd_launch(attention_kv_merge_kernel, dim3((unsigned)row_blocks), dim3(kWarps * 32), 0, s,
              (const float2*)a.part_ml, (const float*)a.part_acc, a.out, rows, a.hd, a.splits);
}

}  // namespace

void attention_kv(const AttnDims& d, const float* q, const pd_half* k_cache, const pd_half* v_cache, int64_t pos0,
                  float* out, pd_stream_t s) {
  if (d.T <= 0) return;
  if (prefill_on_tensor_cores(d, q, k_cache, v_cache, out)) {
    attn::FwdMmaArgs<pd_half> m{};
    m.q_f32 = q;
    m.k = k_cache;
    m.v = v_cache;
    m.out_f32 = out;
    m.T = d.T;
    m.pos0 = pos0;
    m.n_heads = d.n_heads;
    m.n_kv_heads = d.n_kv_heads;
    m.group = d.n_heads / d.n_kv_heads;
    m.scale = d.scale;
    attn::launch_fwd_mma(m, d.head_dim, s);
    return;
  }
  KvArgs a = kv_args(d, q, k_cache, v_cache, out);
  a.pos0 = pos0;
  const int64_t rows = d.T * d.n_heads, row_blocks = pd_ceil_div(rows, kWarps);
  int64_t splits = split_plan(rows, pos0 + d.T, &a.chunk);
  if (splits > 1) {
    char* scratch = (char*)split_scratch(split_bytes(splits, rows, d.head_dim));
    if (!scratch) {  // no memory for the partials: one split per row is still exact
      splits = 1;
      a.chunk = pos0 + d.T;
    } else {
      set_partials(&a, scratch, splits, rows);
    }
  }
  a.splits = (int)splits;
  launch_kv(a, row_blocks, rows, s);
}

void attention_kv_decode(const AttnDims& d, const float* q, const pd_half* k_cache, const pd_half* v_cache,
                         const int32_t* pos0_dev, int64_t n_ctx, void* scratch, float* out, pd_stream_t s) {
  if (d.T <= 0) return;
  KvArgs a = kv_args(d, q, k_cache, v_cache, out);
  a.pos0_dev = pos0_dev;
  const int64_t rows = d.T * d.n_heads, row_blocks = pd_ceil_div(rows, kWarps);
  const int64_t splits = split_plan(rows, n_ctx, &a.chunk);  // for the longest context: fixed for every position
  if (splits > 1) set_partials(&a, (char*)scratch, splits, rows);
  a.splits = (int)splits;
  launch_kv(a, row_blocks, rows, s);
}

size_t attention_kv_decode_scratch_bytes(const AttnDims& d, int64_t n_ctx) {
  size_t most = 0;
  for (int64_t T = 1; T <= d.T; T++) {
    int64_t chunk = 0;
    const int64_t rows = T * d.n_heads, splits = split_plan(rows, n_ctx, &chunk);
    if (splits > 1) most = std::max(most, split_bytes(splits, rows, d.head_dim));
  }
  return most;
}

}  // namespace pd_cuda
