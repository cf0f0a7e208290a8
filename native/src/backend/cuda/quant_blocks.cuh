// Device decoders of GGUF weight blocks (layouts: backend/cpu/quant_blocks.h), shared by the
// matvec, dequantize and get_rows kernels of quant_ops.cu.
//
// A row is cut into "chunks": the unit one thread decodes at a time. Adjacent threads take
// adjacent chunks, so a warp's loads cover contiguous bytes of the row. Chunks are small (4
// quant bytes for the K-quants and Q8_0) on purpose: the activations X are F32, i.e. 7x the
// bytes of Q4_K weights, so what matters most is that lane i's float4s of X sit next to lane
// i+1's (one 128-byte line per 8 lanes), which a 16-byte chunk of nibbles would scatter.
//
// kAlign: the alignment a row's first byte needs (the widest load a block allows).
// A chunk's kValues values lie in kRuns runs of kRunLen contiguous columns, run r starting at
// first_col(chunk) + r * kRunStride (e.g. a Q4_K chunk is 4 low nibbles of sub-block 2c and
// the 4 high nibbles of sub-block 2c+1, 32 columns apart). Runs are multiples of 4 columns for
// every quant type, so activations are read and outputs written as float4 / 8-byte words.
//
// Values are computed with the CPU reference dequantizers' operations in the same order
// (quant_ref.cpp, quant_kquants_ref.cpp), so dequantized values are bit-identical to the CPU's
// (a contracted multiply-add cannot change them either: every product before an add is exact,
// e.g. Q4_K's (d*sc)*q has at most 11+6+4 significant bits).
#pragma once

#include "backend/cuda/gpu_device.cuh"

namespace pd_cuda {
namespace quantdev {

__device__ __forceinline__ float f16_bits_to_float(uint16_t h) {
  __half_raw raw;
  raw.x = h;
  return __half2float(__half(raw));
}
__device__ __forceinline__ float bf16_bits_to_float(uint16_t h) { return __uint_as_float((uint32_t)h << 16); }

__device__ __forceinline__ uint16_t load_u16(const uint8_t* p) { return *reinterpret_cast<const uint16_t*>(p); }
// Four bytes at a 2-byte aligned address (the 18/34/210-byte blocks only keep that much).
__device__ __forceinline__ uint32_t load_u32_a2(const uint8_t* p) {
  const uint16_t* q = reinterpret_cast<const uint16_t*>(p);
  return (uint32_t)q[0] | ((uint32_t)q[1] << 16);
}
__device__ __forceinline__ uint32_t load_u32(const uint8_t* p) { return *reinterpret_cast<const uint32_t*>(p); }
__device__ __forceinline__ uint32_t byte_of(uint32_t w, int i) { return (w >> (8 * i)) & 0xFFu; }

// ---- plain float types: one run of kVec values (kVec = 1 when the row is not 16-byte aligned)
template <int kVec>
struct DecF32 {
  static constexpr int kBlockValues = 1, kBlockBytes = 4;
  static constexpr int kRuns = 1, kRunLen = kVec, kRunStride = 0, kValues = kVec;
  __device__ static int64_t first_col(int64_t chunk) { return chunk * kVec; }
  __device__ static void decode(const uint8_t* row, int64_t chunk, float* v) {
    const float* p = reinterpret_cast<const float*>(row) + chunk * kVec;
    if constexpr (kVec == 4) {
      const float4 f = *reinterpret_cast<const float4*>(p);
      v[0] = f.x, v[1] = f.y, v[2] = f.z, v[3] = f.w;
    } else {
#pragma unroll
      for (int i = 0; i < kVec; i++) v[i] = p[i];
    }
  }
};

// F16 and BF16: four values per 8-byte load (so lanes' float4s of X are adjacent).
template <int kVec, bool kBf16>
struct DecHalf {
  static constexpr int kBlockValues = 1, kBlockBytes = 2;
  static constexpr int kRuns = 1, kRunLen = kVec, kRunStride = 0, kValues = kVec;
  __device__ static int64_t first_col(int64_t chunk) { return chunk * kVec; }
  __device__ static float cvt(uint16_t h) { return kBf16 ? bf16_bits_to_float(h) : f16_bits_to_float(h); }
  __device__ static void decode(const uint8_t* row, int64_t chunk, float* v) {
    const uint8_t* p = row + chunk * kVec * 2;
    if constexpr (kVec == 4) {
      const uint2 w = *reinterpret_cast<const uint2*>(p);
      v[0] = cvt((uint16_t)(w.x & 0xFFFFu));
      v[1] = cvt((uint16_t)(w.x >> 16));
      v[2] = cvt((uint16_t)(w.y & 0xFFFFu));
      v[3] = cvt((uint16_t)(w.y >> 16));
    } else {
#pragma unroll
      for (int i = 0; i < kVec; i++) v[i] = cvt(load_u16(p + 2 * i));
    }
  }
};

// ---- Q8_0 (34 bytes: d, 32 int8): 8 chunks of 4 values.
struct DecQ8_0 {
  static constexpr int kBlockValues = 32, kBlockBytes = 34, kChunks = 8, kAlign = 2;
  static constexpr int kRuns = 1, kRunLen = 4, kRunStride = 0, kValues = 4;
  __device__ static int64_t first_col(int64_t chunk) { return chunk * 4; }
  __device__ static void decode(const uint8_t* row, int64_t chunk, float* v) {
    const uint8_t* b = row + (chunk / kChunks) * kBlockBytes;
    const int k = (int)(chunk % kChunks);
    const float d = f16_bits_to_float(load_u16(b));
    const uint32_t w = load_u32_a2(b + 2 + 4 * k);
#pragma unroll
    for (int i = 0; i < 4; i++) v[i] = (float)(int8_t)byte_of(w, i) * d;
  }
};

// ---- Q4_0 (18 bytes: d, 16 nibble pairs; low nibble j = element j, high = j + 16) and
// Q4_1 (20 bytes: d, m, nibbles): chunk k takes qs[4k..4k+3], i.e. columns 4k.. and 16+4k..
template <bool kHasMin>
struct DecQ4_01 {
  static constexpr int kBlockValues = 32, kBlockBytes = kHasMin ? 20 : 18, kChunks = 4, kAlign = kHasMin ? 4 : 2;
  static constexpr int kRuns = 2, kRunLen = 4, kRunStride = 16, kValues = 8;
  __device__ static int64_t first_col(int64_t chunk) { return (chunk / kChunks) * 32 + (chunk % kChunks) * 4; }
  __device__ static void decode(const uint8_t* row, int64_t chunk, float* v) {
    const uint8_t* b = row + (chunk / kChunks) * kBlockBytes;
    const int k = (int)(chunk % kChunks);
    const float d = f16_bits_to_float(load_u16(b));
    if constexpr (kHasMin) {
      const float m = f16_bits_to_float(load_u16(b + 2));
      const uint32_t q = load_u32(b + 4 + 4 * k);
#pragma unroll
      for (int i = 0; i < 4; i++) {
        v[i] = (float)(byte_of(q, i) & 0xF) * d + m;
        v[4 + i] = (float)(byte_of(q, i) >> 4) * d + m;
      }
    } else {
      const uint32_t q = load_u32_a2(b + 2 + 4 * k);
#pragma unroll
      for (int i = 0; i < 4; i++) {
        v[i] = (float)((int)(byte_of(q, i) & 0xF) - 8) * d;
        v[4 + i] = (float)((int)(byte_of(q, i) >> 4) - 8) * d;
      }
    }
  }
};

// Sub-block j's 6-bit scale and min of a Q4_K/Q5_K block (scales[12] as words s0, s1, s2;
// selected by value, not by indexing an array, which would put it in local memory).
__device__ __forceinline__ void kq_scale_min_dev(int j, uint32_t s0, uint32_t s1, uint32_t s2, float* sc, float* m) {
  auto byte = [&](int i) { return byte_of(i < 4 ? s0 : i < 8 ? s1 : s2, i & 3); };
  if (j < 4) {
    *sc = (float)(byte(j) & 63);
    *m = (float)(byte(j + 4) & 63);
  } else {
    *sc = (float)((byte(j + 4) & 0xF) | ((byte(j - 4) >> 6) << 4));
    *m = (float)((byte(j + 4) >> 4) | ((byte(j) >> 6) << 4));
  }
}

// ---- Q4_K (144 bytes: d, dmin, scales[12], qs[128]) and Q5_K (176: + qh[32] before qs).
// Chunk k < 32: c = k / 8, l = 4 (k % 8): the 4 bytes qs[32c + l ..] = columns 64c+l.. (low
// nibbles, sub-block 2c) and 64c+32+l.. (high nibbles, sub-block 2c+1). Four bytes, not 16, so
// that consecutive lanes read consecutive float4s of X (one warp = one block = 1 KB of X).
template <bool kFifthBit>
struct DecQ45_K {
  static constexpr int kBlockValues = 256, kBlockBytes = kFifthBit ? 176 : 144, kChunks = 32, kAlign = 4;
  static constexpr int kRuns = 2, kRunLen = 4, kRunStride = 32, kValues = 8;
  __device__ static int64_t first_col(int64_t chunk) {
    const int k = (int)(chunk % kChunks);
    return (chunk / kChunks) * 256 + (k >> 3) * 64 + (k & 7) * 4;
  }
  __device__ static void decode(const uint8_t* row, int64_t chunk, float* v) {
    const uint8_t* b = row + (chunk / kChunks) * kBlockBytes;
    const int k = (int)(chunk % kChunks), c = k >> 3, l = (k & 7) * 4;
    const uint32_t dd = load_u32(b);
    const float d = f16_bits_to_float((uint16_t)(dd & 0xFFFFu)), dmin = f16_bits_to_float((uint16_t)(dd >> 16));
    const uint32_t s0 = load_u32(b + 4), s1 = load_u32(b + 8), s2 = load_u32(b + 12);
    float sc, mn;
    kq_scale_min_dev(2 * c, s0, s1, s2, &sc, &mn);
    const float d1 = d * sc, m1 = dmin * mn;
    kq_scale_min_dev(2 * c + 1, s0, s1, s2, &sc, &mn);
    const float d2 = d * sc, m2 = dmin * mn;
    const uint32_t q = load_u32(b + (kFifthBit ? 48 : 16) + 32 * c + l);
    uint32_t qh = 0;
    if constexpr (kFifthBit) qh = load_u32(b + 16 + l);
#pragma unroll
    for (int i = 0; i < 4; i++) {
      uint32_t lo = byte_of(q, i) & 0xF, hi = byte_of(q, i) >> 4;
      if constexpr (kFifthBit) {
        lo |= ((byte_of(qh, i) >> (2 * c)) & 1) << 4;
        hi |= ((byte_of(qh, i) >> (2 * c + 1)) & 1) << 4;
      }
      v[i] = d1 * (float)lo - m1;
      v[4 + i] = d2 * (float)hi - m2;
    }
  }
};

// ---- Q6_K (210 bytes: ql[128], qh[64], scales[16] int8, d). Chunk k < 16: h = k / 8,
// l = 4 (k % 8): columns 128h + l + {0, 32, 64, 96} (4 each) from ql[64h + l], ql[64h + 32 + l]
// and qh[32h + l] (4 bytes each, read as 2-byte halves: the block keeps only 2-byte alignment).
struct DecQ6_K {
  static constexpr int kBlockValues = 256, kBlockBytes = 210, kChunks = 16, kAlign = 2;
  static constexpr int kRuns = 4, kRunLen = 4, kRunStride = 32, kValues = 16;
  __device__ static int64_t first_col(int64_t chunk) {
    const int k = (int)(chunk % kChunks);
    return (chunk / kChunks) * 256 + (k >> 3) * 128 + (k & 7) * 4;
  }
  __device__ static void decode(const uint8_t* row, int64_t chunk, float* v) {
    const uint8_t* b = row + (chunk / kChunks) * kBlockBytes;
    const int k = (int)(chunk % kChunks), h = k >> 3, l = (k & 7) * 4;
    const float d = f16_bits_to_float(load_u16(b + 208));
    const uint32_t q1w = load_u32_a2(b + 64 * h + l), q2w = load_u32_a2(b + 64 * h + 32 + l);
    const uint32_t hw = load_u32_a2(b + 128 + 32 * h + l);
    const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192 + 8 * h + l / 16);
    // As the CPU: d * float(scale) first, then times the quant (no contraction possible: no add).
    const float ds0 = d * (float)sc[0], ds1 = d * (float)sc[2], ds2 = d * (float)sc[4], ds3 = d * (float)sc[6];
#pragma unroll
    for (int i = 0; i < 4; i++) {
      const uint32_t q1 = byte_of(q1w, i), q2 = byte_of(q2w, i), hb = byte_of(hw, i);
      v[i] = ds0 * (float)((int)((q1 & 0xF) | ((hb & 3) << 4)) - 32);
      v[4 + i] = ds1 * (float)((int)((q2 & 0xF) | (((hb >> 2) & 3) << 4)) - 32);
      v[8 + i] = ds2 * (float)((int)((q1 >> 4) | (((hb >> 4) & 3) << 4)) - 32);
      v[12 + i] = ds3 * (float)((int)((q2 >> 4) | (((hb >> 6) & 3) << 4)) - 32);
    }
  }
};

}  // namespace quantdev
}  // namespace pd_cuda
