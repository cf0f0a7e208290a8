// Decode-time weight layout: quantized matrices repacked once at load into panels of 16 rows,
// so that the matvec streams one contiguous run of memory per panel (instead of 16 row streams
// 2-6 KiB apart) and one vpdpbusd advances all 16 rows' integer dots, with no horizontal sums.
// llama.cpp's CPU backend does the same ("CPU_REPACK" buffers); this is Paddock's own layout.
//
// A panel (rows 16p .. 16p+15, nb = cols / 32 blocks per row):
//   quants: nb blocks of kPackGroups(T) groups; group g of block b holds, for row r = 0..15,
//           4 bytes at [g][4r]: Q8_0: elements 4g..4g+3 of the row's block, as unsigned (w ^ 0x80);
//           Q4_0: bytes qs[4g..4g+3] as stored (low nibbles: elements 4g.., high: 16+4g..).
//   scales: then nb x 16 fp16 d (row r of block b at [b][r]), as in the file.
// So a panel holds exactly the bytes of its 16 GGUF rows and the repacked copy is as large as
// the tensor. The original rows stay where Tensor::data points; only the matvec / matmul use
// Tensor::packed.
#pragma once

#include <cstddef>
#include <vector>

#include "backend/cpu/quant_blocks.h"
#include "core/buffer.h"
#include "core/status.h"
#include "core/tensor.h"

namespace paddock {
namespace quant {

constexpr int kPackRows = 16;

// Quant bytes of one block of a panel (16 rows), 0 for a type without a packed layout.
size_t packed_block_quant_bytes(QuantType t);

// Whether this process decodes `t` from packed panels (the layout exists and the CPU has the
// kernels: AVX-512 VNNI, not lowered by PADDOCK_CPU_ISA).
bool packed_layout_in_use(QuantType t);

// Panels [p0, p1) of a row-major matrix (cols a multiple of 32) whose row first_row is at W,
// into out, the start of the whole packed matrix (panel p at p * 16 * row_bytes). Exact: only
// bytes move.
void repack_panels(QuantType t, const void* W, int cols, int p0, int p1, void* out, size_t first_row = 0);

// y[16p + r] = W[16p + r] . act for panels [p0, p1) of a packed matrix P; act in the type's
// vec_dot_type (quant_prepare_act), work of quant_rows_work_bytes(cols, 1) bytes, 64-aligned.
// Bit-identical to the type's vec_dot. Only valid where packed_layout_in_use(t).
void packed_gemv(QuantType t, int cols, const void* P, int p0, int p1, const void* act, float* y, void* work);

// Rows [16p0, 16p1) of P back into GGUF rows (dst row i = matrix row 16p0 + i): for the
// prefill GEMM, which reads rows.
void unpack_panels(QuantType t, const void* P, int cols, int p0, int p1, void* dst);

}  // namespace quant

// Repacks every tensor in `ts` whose type has a packed layout in use and whose rows are a
// multiple of 16, into one huge-page buffer appended to `owned`, using `n_threads` threads;
// sets each one's packed / packed_from. Tensors inside [mapping, mapping + mapping_bytes) (a
// read-only mapping of the whole file at file_path; null: none) are read from the file with
// pread, or, if it cannot be opened, through the mapping, whose pages are then dropped (they
// stay in the page cache and fault back in if something reads Tensor::data again). Either way
// resident memory does not hold the weights twice. Never pass anonymous memory as `mapping`:
// dropped anonymous pages read back as zeros.
Status repack_for_decode(Tensor* const* ts, int n, int n_threads, const char* file_path, const void* mapping,
                         size_t mapping_bytes, std::vector<Buffer>* owned);

}  // namespace paddock
