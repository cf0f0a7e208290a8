// GGUF quantized block formats, byte-for-byte as ggml lays them out (ggml-common.h).
// A tensor row is a plain array of these blocks; nothing here owns memory.
//
// Element order inside a block is part of the file format and is easy to get wrong:
//   Q4_0 / Q4_1 : qs[j] low nibble = element j, high nibble = element j+16  (j < 16)
//   Q4_K / Q5_K : per 64-element chunk c, qs[32c+l] low nibble = element 64c+l,
//                 high nibble = element 64c+32+l; sub-block s (32 values) has its own
//                 6-bit scale and 6-bit min packed into scales[12] (see kq_scale_min).
//   Q5_K        : the 5th bit of element 64c+l is bit 2c of qh[l], of 64c+32+l bit 2c+1.
//   Q6_K        : per 128-element half h, for l < 32:
//                   e[l]    = ql[l]    & 0xF | (qh[l]>>0 & 3)<<4
//                   e[l+32] = ql[l+32] & 0xF | (qh[l]>>2 & 3)<<4
//                   e[l+64] = ql[l]    >> 4  | (qh[l]>>4 & 3)<<4
//                   e[l+96] = ql[l+32] >> 4  | (qh[l]>>6 & 3)<<4
//                 value = d * scales[e/16] * (e - 32); ql/qh/scales advance by 64/32/8 per half.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace paddock::quant {

constexpr int QK = 32;     // block size of the "legacy" formats Q4_0, Q4_1, Q8_0, Q8_1
constexpr int QK_K = 256;  // super-block size of the K-quants
constexpr int K_SCALE_SIZE = 12;

using f16_t = uint16_t;    // IEEE binary16 bits, as stored in files

struct block_q4_0 {
  f16_t d;                 // delta: x = (q - 8) * d
  uint8_t qs[QK / 2];      // nibbles
};
static_assert(sizeof(block_q4_0) == 18, "block_q4_0 must be 18 bytes");

struct block_q4_1 {
  f16_t d;                 // delta
  f16_t m;                 // min: x = q * d + m
  uint8_t qs[QK / 2];
};
static_assert(sizeof(block_q4_1) == 20, "block_q4_1 must be 20 bytes");

struct block_q8_0 {
  f16_t d;                 // x = q * d
  int8_t qs[QK];
};
static_assert(sizeof(block_q8_0) == 34, "block_q8_0 must be 34 bytes");

// Activation format for Q4_1 dot products: s carries d * sum(qs) so the weight's min folds in.
struct block_q8_1 {
  f16_t d;
  f16_t s;                 // d * sum(qs)
  int8_t qs[QK];
};
static_assert(sizeof(block_q8_1) == 36, "block_q8_1 must be 36 bytes");

struct block_q4_K {
  f16_t d;                        // super-block scale for the 6-bit sub-block scales
  f16_t dmin;                     // super-block scale for the 6-bit sub-block mins
  uint8_t scales[K_SCALE_SIZE];   // 8 scales + 8 mins, 6 bits each
  uint8_t qs[QK_K / 2];           // nibbles; x = d*sc*q - dmin*m
};
static_assert(sizeof(block_q4_K) == 144, "block_q4_K must be 144 bytes");

struct block_q5_K {
  f16_t d;
  f16_t dmin;
  uint8_t scales[K_SCALE_SIZE];
  uint8_t qh[QK_K / 8];           // 5th bits
  uint8_t qs[QK_K / 2];           // low 4 bits
};
static_assert(sizeof(block_q5_K) == 176, "block_q5_K must be 176 bytes");

struct block_q6_K {
  uint8_t ql[QK_K / 2];           // low 4 bits
  uint8_t qh[QK_K / 4];           // high 2 bits
  int8_t scales[QK_K / 16];       // 8-bit signed scale per 16 values
  f16_t d;                        // super-block scale
};
static_assert(sizeof(block_q6_K) == 210, "block_q6_K must be 210 bytes");

// Activation format for K-quant dot products; never stored in files.
struct block_q8_K {
  float d;                        // x = q * d (full float: activations are quantized per call)
  int8_t qs[QK_K];
  int16_t bsums[QK_K / 16];       // sum of qs per 16 values: lets mins be applied without unpacking
};
static_assert(sizeof(block_q8_K) == 292, "block_q8_K must be 292 bytes");

// Numbering is ggml's (the value GGUF stores per tensor), so a file's type id casts directly.
enum class QuantType : int {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q8_0 = 8,
  Q8_1 = 9,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
};

struct QuantTypeInfo {
  QuantType type;
  const char* name;        // ggml's name ("q4_K")
  int block_size;          // elements per block
  size_t type_size;        // bytes per block
  bool is_quantized;
  QuantType vec_dot_type;  // activation format the weight type multiplies against
};

// nullptr for type ids this module does not implement.
const QuantTypeInfo* quant_type_info(QuantType t);
const QuantTypeInfo* quant_type_info(int ggml_type_id);

// Bytes of one row of n elements; 0 if n is not a multiple of the block size.
size_t quant_row_size(QuantType t, int64_t n);

// Sub-block j (0..7) scale and min of a Q4_K/Q5_K block: 6 bits each, the first four
// stored plainly, the last four split into a low nibble and two high bits borrowed
// from the top of bytes 0..7.
inline void kq_scale_min(int j, const uint8_t* q, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

// All eight at once with 32-bit word arithmetic (same result as kq_scale_min for j = 0..7;
// little-endian, as are all targets Paddock ships):
// out[0..7] = scales, out[8..15] = mins. Used by the SIMD kernels once per super-block.
inline void kq_unpack_scales(const uint8_t* q, uint8_t out[16]) {
  uint32_t w0, w1, w2;
  std::memcpy(&w0, q, 4);
  std::memcpy(&w1, q + 4, 4);
  std::memcpy(&w2, q + 8, 4);
  const uint32_t sc_lo = w0 & 0x3f3f3f3fu;
  const uint32_t m_lo = w1 & 0x3f3f3f3fu;
  const uint32_t sc_hi = (w2 & 0x0f0f0f0fu) | (((w0 >> 6) & 0x03030303u) << 4);
  const uint32_t m_hi = ((w2 >> 4) & 0x0f0f0f0fu) | (((w1 >> 6) & 0x03030303u) << 4);
  std::memcpy(out + 0, &sc_lo, 4);
  std::memcpy(out + 4, &sc_hi, 4);
  std::memcpy(out + 8, &m_lo, 4);
  std::memcpy(out + 12, &m_hi, 4);
}

}  // namespace paddock::quant
