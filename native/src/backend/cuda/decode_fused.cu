// decode_fused.h: RoPE of q and k with the F16 KV-cache store of k and v, one block per token.
// A thread takes one interleaved pair at a time of the token's q, k and v rows in turn (one
// 8-byte load, one 8-byte or 4-byte store); the row's cos/sin stay in L1 for all heads.
#include "backend/cuda/decode_fused.h"
#include "backend/cuda/gpu_device.cuh"

namespace pd_cuda {
namespace {

struct RopeKvArgs {
  float* q;
  const float* k;
  const float* v;
  const float* rope;
  const int32_t* pos0_dev;
  pd_half* k_cache;
  pd_half* v_cache;
  int n_heads, n_kv_heads, head_dim;
};

__device__ __forceinline__ float2 rotate(float2 x, float c, float s) {
  return make_float2(x.x * c - x.y * s, x.x * s + x.y * c);  // rope.cu's order
}

__global__ void __launch_bounds__(256) rope_store_kv_kernel(RopeKvArgs a) {
  const int64_t t = blockIdx.x;
  const int half = a.head_dim / 2, q_pairs = a.n_heads * half, kv_pairs = a.n_kv_heads * half;
  const int64_t kv_dim = (int64_t)a.n_kv_heads * a.head_dim;
  const int64_t p = (int64_t)*a.pos0_dev + t;
  const float* cos_r = a.rope + t * a.head_dim;
  const float* sin_r = cos_r + half;
  float2* q = reinterpret_cast<float2*>(a.q + t * (int64_t)a.n_heads * a.head_dim);
  const float2* k = reinterpret_cast<const float2*>(a.k + t * kv_dim);
  const float2* v = reinterpret_cast<const float2*>(a.v + t * kv_dim);
  uint32_t* kc = reinterpret_cast<uint32_t*>(a.k_cache + p * kv_dim);
  uint32_t* vc = reinterpret_cast<uint32_t*>(a.v_cache + p * kv_dim);
  for (int i = threadIdx.x; i < q_pairs + 2 * kv_pairs; i += blockDim.x) {
    if (i < q_pairs) {
      const int j = i % half;
      q[i] = rotate(q[i], cos_r[j], sin_r[j]);
    } else if (i < q_pairs + kv_pairs) {
      const int e = i - q_pairs, j = e % half;
      const float2 r = rotate(k[e], cos_r[j], sin_r[j]);
      kc[e] = pd_pack_f16(r.x, r.y);
    } else {
      const int e = i - q_pairs - kv_pairs;
      const float2 x = v[e];
      vc[e] = pd_pack_f16(x.x, x.y);
    }
  }
}

}  // namespace

void rope_store_kv(float* q, const float* k, const float* v, int64_t T, int n_heads, int n_kv_heads, int head_dim,
                   const float* rope, const int32_t* pos0_dev, pd_half* k_cache, pd_half* v_cache, pd_stream_t s) {
  if (T <= 0) return;
  const RopeKvArgs a{q, k, v, rope, pos0_dev, k_cache, v_cache, n_heads, n_kv_heads, head_dim};
  const int items = (n_heads + 2 * n_kv_heads) * (head_dim / 2);
  int threads = 32;
  while (threads < 256 && threads < items) threads *= 2;
  pd_launch(rope_store_kv_kernel, dim3((unsigned)T), dim3(threads), 0, s, a);
}

}  // namespace pd_cuda
