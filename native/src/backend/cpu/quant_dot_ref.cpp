// Scalar reference dot products: weight row x activation row, block by block. Each block's
// integer dot product is exact in int32; the float part is (weight scale * activation scale) *
// integer sum, the same per-block structure the SIMD kernels use, so the two agree to float
// rounding of the final accumulation (and bit for bit when every scale is a power of two).
#include <type_traits>

#include "quant.h"
#include "quant_fp16.h"
#include "quant_kernels.h"

namespace paddock::quant::ref {

float vec_dot_q4_0_q8_0(int n, const void* vw, const void* va) {
  const block_q4_0* w = static_cast<const block_q4_0*>(vw);
  const block_q8_0* a = static_cast<const block_q8_0*>(va);
  float sum = 0.0f;
  for (int i = 0; i < n / QK; i++) {
    int isum = 0;
    for (int j = 0; j < QK / 2; j++) {
      isum += ((w[i].qs[j] & 0xF) - 8) * a[i].qs[j];
      isum += ((w[i].qs[j] >> 4) - 8) * a[i].qs[j + QK / 2];
    }
    sum += fp16_to_fp32(w[i].d) * fp16_to_fp32(a[i].d) * float(isum);
  }
  return sum;
}

float vec_dot_q4_1_q8_1(int n, const void* vw, const void* va) {
  const block_q4_1* w = static_cast<const block_q4_1*>(vw);
  const block_q8_1* a = static_cast<const block_q8_1*>(va);
  float sum = 0.0f;
  for (int i = 0; i < n / QK; i++) {
    int isum = 0;
    for (int j = 0; j < QK / 2; j++) {
      isum += (w[i].qs[j] & 0xF) * a[i].qs[j];
      isum += (w[i].qs[j] >> 4) * a[i].qs[j + QK / 2];
    }
    // x = d*q + m, so sum(x*y) = d*dy*sum(q*qy) + m*(dy*sum(qy)) and dy*sum(qy) is a.s
    sum += fp16_to_fp32(w[i].d) * fp16_to_fp32(a[i].d) * float(isum);
    sum += fp16_to_fp32(w[i].m) * fp16_to_fp32(a[i].s);
  }
  return sum;
}

float vec_dot_q8_0_q8_0(int n, const void* vw, const void* va) {
  const block_q8_0* w = static_cast<const block_q8_0*>(vw);
  const block_q8_0* a = static_cast<const block_q8_0*>(va);
  float sum = 0.0f;
  for (int i = 0; i < n / QK; i++) {
    int isum = 0;
    for (int j = 0; j < QK; j++) isum += w[i].qs[j] * a[i].qs[j];
    sum += fp16_to_fp32(w[i].d) * fp16_to_fp32(a[i].d) * float(isum);
  }
  return sum;
}

namespace {
// Mins are applied through the activation's 16-value sums: sum over a sub-block of
// (d*sc*q - dmin*m)*y = d*sc*sum(q*y) - dmin*m*(bsum pair), no per-element min needed.
inline int kq_min_sum(const uint8_t* scales, const int16_t* bsums) {
  int s = 0;
  for (int j = 0; j < 8; j++) {
    uint8_t sc, m;
    kq_scale_min(j, scales, &sc, &m);
    s += int(m) * (bsums[2 * j] + bsums[2 * j + 1]);
  }
  return s;
}
}  // namespace

namespace {
// Q4_K and Q5_K share everything but the quant values: Q5_K adds a fifth bit from qh (bit 2c
// for the low nibbles of chunk c, bit 2c+1 for the high ones).
template <class Block>
float dot_q4_5_K_q8_K(int n, const Block* w, const block_q8_K* a) {
  float sum = 0.0f;
  for (int i = 0; i < n / QK_K; i++) {
    int isum = 0;
    for (int c = 0; c < 4; c++) {
      uint8_t sc1, sc2, m;
      kq_scale_min(2 * c, w[i].scales, &sc1, &m);
      kq_scale_min(2 * c + 1, w[i].scales, &sc2, &m);
      const uint8_t* q = w[i].qs + 32 * c;
      const int8_t* y = a[i].qs + 64 * c;
      int s1 = 0, s2 = 0;
      for (int l = 0; l < 32; l++) {
        int lo = q[l] & 0xF, hi = q[l] >> 4;
        if constexpr (std::is_same_v<Block, block_q5_K>) {
          lo |= ((w[i].qh[l] >> (2 * c)) & 1) << 4;
          hi |= ((w[i].qh[l] >> (2 * c + 1)) & 1) << 4;
        }
        s1 += lo * y[l];
        s2 += hi * y[l + 32];
      }
      isum += sc1 * s1 + sc2 * s2;
    }
    const int msum = kq_min_sum(w[i].scales, a[i].bsums);
    const float d = a[i].d * fp16_to_fp32(w[i].d);
    const float dmin = a[i].d * fp16_to_fp32(w[i].dmin);
    sum += d * float(isum) - dmin * float(msum);
  }
  return sum;
}
}  // namespace

float vec_dot_q4_K_q8_K(int n, const void* vw, const void* va) {
  return dot_q4_5_K_q8_K(n, static_cast<const block_q4_K*>(vw), static_cast<const block_q8_K*>(va));
}

float vec_dot_q5_K_q8_K(int n, const void* vw, const void* va) {
  return dot_q4_5_K_q8_K(n, static_cast<const block_q5_K*>(vw), static_cast<const block_q8_K*>(va));
}

float vec_dot_q6_K_q8_K(int n, const void* vw, const void* va) {
  const block_q6_K* w = static_cast<const block_q6_K*>(vw);
  const block_q8_K* a = static_cast<const block_q8_K*>(va);
  float sum = 0.0f;
  for (int i = 0; i < n / QK_K; i++) {
    int isum = 0;
    for (int h = 0; h < 2; h++) {
      const uint8_t* ql = w[i].ql + 64 * h;
      const uint8_t* qh = w[i].qh + 32 * h;
      const int8_t* sc = w[i].scales + 8 * h;
      const int8_t* y = a[i].qs + 128 * h;
      for (int g = 0; g < 2; g++) {  // 16-value groups l in [16g, 16g+16)
        int s1 = 0, s2 = 0, s3 = 0, s4 = 0;
        for (int l = 16 * g; l < 16 * g + 16; l++) {
          s1 += (((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32) * y[l];
          s2 += (((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32) * y[l + 32];
          s3 += (((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32) * y[l + 64];
          s4 += (((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32) * y[l + 96];
        }
        isum += sc[g] * s1 + sc[g + 2] * s2 + sc[g + 4] * s3 + sc[g + 6] * s4;
      }
    }
    sum += a[i].d * fp16_to_fp32(w[i].d) * float(isum);
  }
  return sum;
}

float vec_dot_f16_f32(int n, const void* vw, const void* va) {
  const f16_t* w = static_cast<const f16_t*>(vw);
  const float* a = static_cast<const float*>(va);
  float sum = 0.0f;
  for (int i = 0; i < n; i++) sum += fp16_to_fp32(w[i]) * a[i];
  return sum;
}

float vec_dot_f32_f32(int n, const void* vw, const void* va) {
  const float* w = static_cast<const float*>(vw);
  const float* a = static_cast<const float*>(va);
  float sum = 0.0f;
  for (int i = 0; i < n; i++) sum += w[i] * a[i];
  return sum;
}

// ---- multi forms: the reference just loops (no weight reuse to speak of in scalar code)
#define PADDOCK_REF_MULTI(name)                                                              \
  void vec_dot_multi_##name(int n, const void* w, const void* a, size_t s, int na, float* out) { \
    for (int i = 0; i < na; i++) out[i] = vec_dot_##name(n, w, static_cast<const char*>(a) + i * s); \
  }
PADDOCK_REF_MULTI(q4_0_q8_0)
PADDOCK_REF_MULTI(q4_1_q8_1)
PADDOCK_REF_MULTI(q8_0_q8_0)
PADDOCK_REF_MULTI(q4_K_q8_K)
PADDOCK_REF_MULTI(q5_K_q8_K)
PADDOCK_REF_MULTI(q6_K_q8_K)
PADDOCK_REF_MULTI(f16_f32)
PADDOCK_REF_MULTI(f32_f32)
#undef PADDOCK_REF_MULTI

}  // namespace paddock::quant::ref
