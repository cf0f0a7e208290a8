// The attention kernels (backend/cuda/attention.h) against double-precision references:
//  - attention_kv (F16 KV cache, F32 queries): decode at pos0 0, 1, 37 and 300 (the last splits
//    its positions over blocks and merges them), prefill chunks at pos0 > 0 (SIMT for head_dim
//    8, one of them split with rows whose later splits are empty; tensor cores for 64, ragged
//    and tile-aligned); GQA 8/4, 8/2, MHA and one kv head; head_dim 8, 12, 64, 160 (128 on a GPU).
//    Cache rows past the chunk hold large values, so reading a position a query must not see
//    shows up. The reference is written here: softmax over positions 0..pos0+t in double.
//  - flash_attention_forward / backward (BF16): one segment and three packed segments of uneven
//    lengths, T ragged (45, 130, 200) and tile-aligned (64), head_dim 8, 12, 160 (SIMT kernels)
//    and 64 (tensor cores; 128 too on a GPU); GQA 8/4, 8/2, MHA and a single kv head.
//    Reference: backend/cpu/attention_train.h in double on the BF16-rounded inputs; the backward
//    gets the reference's out rounded to BF16 and its lse, so it is checked on its own. out,
//    lse, dq, dk, dv compared; guard bands on every output.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "backend/cpu/attention_train.h"
#include "backend/cuda/attention.h"
#include "cuda_testing.h"

using cudatest::DeviceArray;

namespace {

std::vector<float> random_normal(size_t n, uint32_t seed, float sd = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, sd);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// ---- inference over the KV cache ----

void test_kv_case(int hd, int n_kv_heads, int64_t T, int64_t pos0) {
  const int n_heads = 8;
  const int64_t kv_dim = (int64_t)n_kv_heads * hd, q_dim = (int64_t)n_heads * hd;
  const int64_t n_ctx = pos0 + T + 8;  // 8 rows the queries must never read
  std::vector<float> q = random_normal((size_t)(T * q_dim), 11 + (uint32_t)pos0);
  std::vector<float> kf = random_normal((size_t)(n_ctx * kv_dim), 23 + (uint32_t)hd);
  std::vector<float> vf = random_normal((size_t)(n_ctx * kv_dim), 37 + (uint32_t)T);
  std::vector<pd_half> kh(kf.size()), vh(vf.size());
  for (size_t i = 0; i < kf.size(); i++) {
    if ((int64_t)i >= (pos0 + T) * kv_dim) kf[i] = vf[i] = 1000.0f;  // unseen positions: would dominate
    kh[i] = __float2half_rn(kf[i]);
    vh[i] = __float2half_rn(vf[i]);
    kf[i] = __half2float(kh[i]);
    vf[i] = __half2float(vh[i]);
  }
  const double scale = 1.0 / std::sqrt((double)hd);
  std::vector<double> want((size_t)(T * q_dim));
  const int group = n_heads / n_kv_heads;
  for (int64_t t = 0; t < T; t++)
    for (int h = 0; h < n_heads; h++) {
      const int64_t n_pos = pos0 + t + 1, kvh = h / group;
      std::vector<double> s((size_t)n_pos);
      double mx = -INFINITY, sum = 0;
      for (int64_t p = 0; p < n_pos; p++) {
        double dot = 0;
        for (int d = 0; d < hd; d++) dot += (double)q[t * q_dim + h * hd + d] * kf[p * kv_dim + kvh * hd + d];
        s[p] = dot * scale;
        mx = std::fmax(mx, s[p]);
      }
      for (double& x : s) sum += (x = std::exp(x - mx));
      for (int d = 0; d < hd; d++) {
        double o = 0;
        for (int64_t p = 0; p < n_pos; p++) o += s[p] * vf[p * kv_dim + kvh * hd + d];
        want[t * q_dim + h * hd + d] = o / sum;
      }
    }

  DeviceArray<float> dq(q.size()), dout(want.size());
  DeviceArray<pd_half> dk(kh.size()), dv(vh.size());
  dq.upload(q);
  dk.upload(kh);
  dv.upload(vh);
  pd_cuda::AttnDims d;
  d.T = T;
  d.n_heads = n_heads;
  d.n_kv_heads = n_kv_heads;
  d.head_dim = hd;
  d.scale = (float)scale;
  pd_cuda::attention_kv(d, dq.get(), dk.get(), dv.get(), pos0, dout.get(), nullptr);
  CHECK(pd_gpu::check_launch("attention_kv") && pd_gpu::synchronize());
  char what[96];
  std::snprintf(what, sizeof what, "attention_kv hd %d kv %d T %lld pos0 %lld", hd, n_kv_heads, (long long)T,
                (long long)pos0);
  // SIMT: F32 products of exactly representable F16 values; only summation order and exp differ.
  // Tensor-core prefill (T >= 16, head_dim 64 / 128): q and p rounded to F16 (2^-11 relative).
  const bool tensor_cores = T >= 16 && (hd == 64 || hd == 128);
  cudatest::check_close(what, dout.download(), want, tensor_cores ? 2e-6 : 1e-9);
  CHECK(dout.guards_intact());
}

// ---- training forward / backward ----

struct FlashCase {
  int64_t T;
  std::vector<int64_t> segments;  // lengths, summing to T
  int hd, n_kv_heads;
};

std::vector<pd_bf16> to_bf16(std::vector<float>& v) {  // rounds v in place, returns the BF16 copy
  std::vector<pd_bf16> b(v.size());
  for (size_t i = 0; i < v.size(); i++) {
    b[i] = __float2bfloat16_rn(v[i]);
    v[i] = __bfloat162float(b[i]);
  }
  return b;
}

std::vector<double> to_double(const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); }

template <class T>
std::vector<float> to_float(const std::vector<T>& v) {
  std::vector<float> f(v.size());
  for (size_t i = 0; i < v.size(); i++) f[i] = (float)v[i];
  return f;
}

void test_flash_case(const FlashCase& c) {
  const int n_heads = 8, hd = c.hd;
  const int64_t T = c.T, q_dim = (int64_t)n_heads * hd, kv_dim = (int64_t)c.n_kv_heads * hd;
  std::vector<int32_t> seg((size_t)T);
  int64_t at = 0;
  for (int64_t len : c.segments) {
    for (int64_t i = 0; i < len; i++) seg[(size_t)(at + i)] = (int32_t)at;
    at += len;
  }
  CHECK(at == T);
  const uint32_t seed = (uint32_t)(T * 131 + hd * 7 + c.segments.size());
  std::vector<float> q = random_normal((size_t)(T * q_dim), seed), k = random_normal((size_t)(T * kv_dim), seed + 1),
                     v = random_normal((size_t)(T * kv_dim), seed + 2), dout = random_normal(q.size(), seed + 3);
  const std::vector<pd_bf16> qb = to_bf16(q), kb = to_bf16(k), vb = to_bf16(v), dob = to_bf16(dout);

  paddock::AttentionShape shape;
  shape.T = T;
  shape.n_heads = n_heads;
  shape.n_kv_heads = c.n_kv_heads;
  shape.head_dim = hd;
  std::vector<double> qd = to_double(q), kd = to_double(k), vd = to_double(v), dod = to_double(dout);
  std::vector<double> out_ref(q.size()), lse_ref((size_t)(T * n_heads));
  std::vector<double> scratch((size_t)paddock::attention_scratch_elems(T, 1));
  paddock::attention_forward<double>(nullptr, shape, qd.data(), kd.data(), vd.data(), seg.data(), out_ref.data(),
                                     lse_ref.data(), scratch.data());
  // The backward's inputs: the reference's out rounded to BF16 (both sides use it) and its lse.
  std::vector<float> out_in = to_float(out_ref);
  const std::vector<pd_bf16> out_inb = to_bf16(out_in);
  const std::vector<double> out_ind = to_double(out_in);
  std::vector<double> dq_ref(q.size()), dk_ref(k.size()), dv_ref(v.size());
  paddock::attention_backward<double>(nullptr, shape, qd.data(), kd.data(), vd.data(), seg.data(), out_ind.data(),
                                      lse_ref.data(), dod.data(), dq_ref.data(), dk_ref.data(), dv_ref.data(),
                                      scratch.data());

  pd_cuda::AttnDims d;
  d.T = T;
  d.n_heads = n_heads;
  d.n_kv_heads = c.n_kv_heads;
  d.head_dim = hd;
  d.scale = 1.0f / std::sqrt((float)hd);
  DeviceArray<pd_bf16> dq_in(qb.size()), dk_in(kb.size()), dv_in(vb.size()), ddout(dob.size()), dout_b(qb.size()),
      dref_out(out_inb.size());
  DeviceArray<int32_t> dseg(seg.size());
  DeviceArray<float> dlse(lse_ref.size()), dlse_in(lse_ref.size()), gq(q.size()), gk(k.size()), gv(v.size());
  DeviceArray<unsigned char> ws(pd_cuda::flash_attention_workspace_bytes(d));
  dq_in.upload(qb);
  dk_in.upload(kb);
  dv_in.upload(vb);
  ddout.upload(dob);
  dref_out.upload(out_inb);
  dseg.upload(seg);
  dlse_in.upload(to_float(lse_ref));

  char tag[96];
  std::snprintf(tag, sizeof tag, "hd %d kv %d T %lld segs %zu", hd, c.n_kv_heads, (long long)T, c.segments.size());
  char what[128];
  pd_cuda::flash_attention_forward(d, dq_in.get(), dk_in.get(), dv_in.get(), dseg.get(), dout_b.get(), dlse.get(),
                                   nullptr);
  CHECK(pd_gpu::check_launch("flash_attention_forward") && pd_gpu::synchronize());
  // BF16 output rounding (~1e-6) plus BF16 probabilities in the tensor-core P V product.
  std::snprintf(what, sizeof what, "fwd out %s", tag);
  cudatest::check_close(what, to_float(dout_b.download()), out_ref, 2e-5);
  // F32 accumulation of exact BF16 products; only order and the device exp/log differ.
  std::snprintf(what, sizeof what, "fwd lse %s", tag);
  cudatest::check_close(what, dlse.download(), lse_ref, 1e-9);
  CHECK(dout_b.guards_intact() && dlse.guards_intact());

  pd_cuda::flash_attention_backward(d, dq_in.get(), dk_in.get(), dv_in.get(), dseg.get(), dref_out.get(),
                                    dlse_in.get(), ddout.get(), gq.get(), gk.get(), gv.get(), ws.get(), nullptr);
  CHECK(pd_gpu::check_launch("flash_attention_backward") && pd_gpu::synchronize());
  // The tensor-core products take P and dS as BF16 operands (relative 2^-9 each, averaging out).
  const double grad_bound = 1e-4;
  std::snprintf(what, sizeof what, "bwd dq %s", tag);
  cudatest::check_close(what, gq.download(), dq_ref, grad_bound);
  std::snprintf(what, sizeof what, "bwd dk %s", tag);
  cudatest::check_close(what, gk.download(), dk_ref, grad_bound);
  std::snprintf(what, sizeof what, "bwd dv %s", tag);
  cudatest::check_close(what, gv.download(), dv_ref, grad_bound);
  CHECK(gq.guards_intact() && gk.guards_intact() && gv.guards_intact() && ws.guards_intact());
}

}  // namespace

int main() {
  cudatest::require_device("test_cuda_attention");
  const bool emu = cudatest::emulated();
  auto t0 = std::chrono::steady_clock::now();

  std::vector<int> head_dims = {8, 64};
  if (!emu) head_dims.push_back(128);
  for (int hd : head_dims) {
    for (int64_t pos0 : {0, 1, 37, 300}) test_kv_case(hd, 4, 1, pos0);
    test_kv_case(hd, 2, 1, 37);
    test_kv_case(hd, 2, 16, 5);     // prefill chunk, one split
    test_kv_case(hd, 4, 120, 20);   // hd 8: split in two, rows up to t = 75 with an empty second split
    test_kv_case(hd, 2, 64, 100);   // tensor cores for hd 64: tile-aligned chunk, diagonal inside tiles
    if (!emu) {
      test_kv_case(hd, 4, 1, 4095);  // long decode: many splits
      test_kv_case(hd, 2, 256, 1000);
    }
  }
  // SIMT odd sizes: head_dim 12 (scalar loads, no 16-byte rows), 160 (5 dims a lane); MHA and
  // one kv head for all 8 query heads.
  test_kv_case(12, 4, 1, 37);
  test_kv_case(12, 8, 16, 5);
  test_kv_case(160, 1, 1, 300);
  test_kv_case(160, 2, 16, 40);
  std::printf("  attention_kv: %.1f s\n", seconds_since(t0));

  t0 = std::chrono::steady_clock::now();
  std::vector<FlashCase> cases = {
      {45, {45}, 8, 4},          {64, {10, 31, 23}, 8, 2},    {130, {50, 17, 63}, 8, 4},
      {45, {7, 25, 13}, 64, 4},  {64, {64}, 64, 2},           {200, {200}, 64, 4},
      {200, {70, 80, 50}, 64, 2}, {64, {20, 44}, 64, 8},     {64, {64}, 64, 1},
      {45, {7, 25, 13}, 12, 8},  {45, {45}, 160, 2},
  };
  if (!emu) {
    cases.push_back({45, {7, 25, 13}, 128, 4});
    cases.push_back({200, {70, 80, 50}, 128, 2});
    cases.push_back({1000, {300, 517, 183}, 128, 8});
    cases.push_back({1000, {1000}, 64, 2});
  }
  for (const FlashCase& c : cases) test_flash_case(c);
  std::printf("  flash attention: %.1f s\n", seconds_since(t0));
  return pdtest::finish("test_cuda_attention");
}
