// The load-time 16-row panel layout (backend/cpu/weight_repack.h) for Q8_0 and Q4_0:
//   - repack_panels writes exactly the documented bytes;
//   - unpack_panels(repack_panels(W)) gives W back byte for byte;
//   - quant_matvec / quant_matmul reading the panels (decode gemv, small batches, and the GEMM
//     path that unpacks them) give bit-identical outputs to the scalar reference vec_dot (to
//     the ISA's own vec_dot where the panels are not in use), for
//     ranges that start / end inside a panel (loose rows come from W) and for whole panels;
//   - repack_for_decode packs only what it can (rows % 16, types with a layout), leaves
//     Tensor::data alone, and matmul_quant_group on 2 threads gives the same bits with and
//     without the packed copy (and ignores a copy whose packed_from no longer matches data);
//   - rows inside a file mapping are read from the file and packed the same, and the mapping
//     still reads the file's bytes after its pages were given back.
// On a CPU without AVX-512 VNNI (or PADDOCK_CPU_ISA=avx2|scalar) the layout is not in use: the
// round trip is still checked, the packed pointer is ignored and nothing is repacked.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "../src/backend/cpu/matmul_quant.h"
#include "../src/backend/cpu/quant.h"
#include "../src/backend/cpu/quant_matvec.h"
#include "../src/backend/cpu/threadpool.h"
#include "../src/backend/cpu/weight_repack.h"
#include "../src/io/mapped_file.h"
#include "testing.h"

using namespace paddock;
using namespace paddock::quant;

namespace {

std::vector<float> noise(size_t n, uint64_t seed, float scale) {
  std::vector<float> v(n);
  uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;
  for (float& x : v) x = scale * (float((s = s * 6364136223846793005ull + 1442695040888963407ull) >> 40) / 8388608.0f - 1.0f);
  return v;
}

struct Matrix {
  QuantType type;
  int rows, cols;
  std::vector<uint8_t> W, P;
  Matrix(QuantType t, int rows_, int cols_, uint64_t seed) : type(t), rows(rows_), cols(cols_) {
    const std::vector<float> wf = noise(size_t(rows) * cols, seed, 0.1f);
    W.resize(quant_row_size(t, cols) * rows);
    quant_kernels_isa(t, QuantIsa::Scalar)->from_float(wf.data(), W.data(), int64_t(rows) * cols);
    P.resize(W.size());
    repack_panels(t, W.data(), cols, 0, rows / kPackRows, P.data());
  }
  // Expected output of row r for the prepared activation act: the scalar reference where the
  // panels are in use (their kernels follow its operation order); otherwise the ISA's own
  // vec_dot (AVX2 sums in another order, and the packed pointer must simply be ignored).
  float ref(int r, const void* act) const {
    const QuantKernels* k = packed_layout_in_use(type) ? quant_kernels_isa(type, QuantIsa::Scalar) : quant_kernels(type);
    return k->vec_dot(cols, W.data() + size_t(r) * quant_row_size(type, cols), act);
  }
};

bool same_bits(float a, float b) { return std::memcmp(&a, &b, 4) == 0; }

void check_round_trip(const Matrix& m) {
  std::vector<uint8_t> back(m.W.size(), 0);
  unpack_panels(m.type, m.P.data(), m.cols, 0, m.rows / kPackRows, back.data());
  CHECK(back == m.W);
  std::vector<uint8_t> part(m.W.size() / (m.rows / kPackRows), 0);  // one panel: panel 1 alone
  unpack_panels(m.type, m.P.data(), m.cols, 1, 2, part.data());
  CHECK(std::memcmp(part.data(), m.W.data() + part.size(), part.size()) == 0);
}

// The layout as weight_repack.h documents it, byte by byte, written out independently of the
// library's (SIMD or portable) repacking.
void check_layout_spec(const Matrix& m) {
  const bool q8 = m.type == QuantType::Q8_0;
  const size_t bb = q8 ? 34 : 18, qb = bb - 2, nb = size_t(m.cols) / 32, wrb = nb * bb;
  const size_t panel = nb * (qb * kPackRows + 2 * kPackRows);
  CHECK(packed_block_quant_bytes(m.type) == qb * kPackRows);
  int bad = 0;
  for (size_t p = 0; p < size_t(m.rows) / kPackRows; p++)
    for (size_t b = 0; b < nb; b++)
      for (size_t r = 0; r < kPackRows; r++) {
        const uint8_t* blk = m.W.data() + (p * kPackRows + r) * wrb + b * bb;
        const uint8_t* pq = m.P.data() + p * panel + b * qb * kPackRows;
        for (size_t g = 0; g < qb / 4; g++)
          for (size_t j = 0; j < 4; j++) bad += pq[g * 4 * kPackRows + 4 * r + j] != uint8_t(blk[2 + 4 * g + j] ^ (q8 ? 0x80 : 0));
        const uint8_t* pd = m.P.data() + p * panel + nb * qb * kPackRows + (b * kPackRows + r) * 2;
        bad += pd[0] != blk[0] || pd[1] != blk[1];
      }
  CHECK_MSG(bad == 0, "%s: %d bytes off the documented layout", quant_type_info(m.type)->name, bad);
}

// Every row range of the list against the reference, for T = 1 (matvec), 3 (per-token gemv)
// and 20 (GEMM over unpacked panels).
void check_products(const Matrix& m) {
  const int ranges[][2] = {{0, m.rows}, {5, m.rows - 3}, {16, 32}, {3, 13}, {17, m.rows}, {0, 16}};
  for (int T : {1, 3, 20}) {
    const std::vector<float> x = noise(size_t(T) * m.cols, 99 + T, 1.0f);
    const size_t arb = quant_act_row_size(m.type, m.cols);
    std::vector<uint8_t> act(arb * T);
    CHECK(quant_prepare_act(m.type, x.data(), m.cols, T, act.data()) == QuantStatus::Ok);
    for (const auto& rg : ranges) {
      std::vector<float> Y(size_t(T) * m.rows, -1.0f);
      const QuantStatus s =
          T == 1 ? quant_matvec(m.type, m.W.data(), m.rows, m.cols, nullptr, Y.data(), rg[0], rg[1], act.data(), m.P.data())
                 : quant_matmul(m.type, m.W.data(), m.rows, m.cols, nullptr, T, Y.data(), rg[0], rg[1], act.data(),
                                m.P.data());
      CHECK(s == QuantStatus::Ok);
      int bad = 0;
      for (int t = 0; t < T; t++)
        for (int r = 0; r < m.rows; r++) {
          const float got = Y[size_t(t) * m.rows + r];
          const bool inside = r >= rg[0] && r < rg[1];
          if (inside ? !same_bits(got, m.ref(r, act.data() + t * arb)) : got != -1.0f) bad++;
        }
      CHECK_MSG(bad == 0, "%s T=%d rows [%d,%d): %d outputs differ from the reference (or were written outside)",
                quant_type_info(m.type)->name, T, rg[0], rg[1], bad);
    }
  }
}

// repack_for_decode on tensors over malloc'd rows (no file mapping: nothing is released).
void check_model_path() {
  Matrix q8(QuantType::Q8_0, 64, 256, 1), q4(QuantType::Q4_0, 48, 256, 2), odd(QuantType::Q8_0, 40, 256, 3);
  Matrix q41(QuantType::Q4_1, 32, 256, 4);
  Tensor t[4];
  const Matrix* ms[4] = {&q8, &q4, &odd, &q41};
  for (int i = 0; i < 4; i++) t[i] = make_tensor("w", (DType)(uint32_t)ms[i]->type, ms[i]->W.data(), 256, ms[i]->rows);
  Tensor* ts[4] = {&t[0], &t[1], &t[2], &t[3]};
  std::vector<Buffer> owned;
  CHECK(repack_for_decode(ts, 4, 2, nullptr, nullptr, 0, &owned).ok());
  const bool in_use = packed_layout_in_use(QuantType::Q8_0);
  CHECK((t[0].packed != nullptr) == in_use && (t[1].packed != nullptr) == in_use);
  CHECK(t[2].packed == nullptr);  // 40 rows: not whole panels
  CHECK(t[3].packed == nullptr);  // Q4_1: no layout
  CHECK(owned.size() == (in_use ? 1u : 0u));
  for (int i = 0; i < 4; i++) CHECK(t[i].data == ms[i]->W.data());
  if (in_use) CHECK(std::memcmp(t[0].packed, q8.P.data(), q8.P.size()) == 0);

  // The group path on 2 threads: packed vs plain vs a stale packed copy, bit for bit.
  ThreadPool pool(2);
  for (int64_t T : {1, 2, 24}) {
    const std::vector<float> x = noise(size_t(T) * 256, 7 + T, 1.0f);
    std::vector<float> a(size_t(T) * 64), b(size_t(T) * 48), a2(a.size()), b2(b.size()), a3(a.size());
    const Tensor* w[2] = {&t[0], &t[1]};
    float* y[2] = {a.data(), b.data()};
    matmul_quant_group(&pool, w, y, 2, x.data(), T);
    Tensor plain0 = t[0], plain1 = t[1];
    plain0.packed = plain1.packed = nullptr;
    const Tensor* wp[2] = {&plain0, &plain1};
    float* y2[2] = {a2.data(), b2.data()};
    matmul_quant_group(&pool, wp, y2, 2, x.data(), T);
    CHECK(std::memcmp(a.data(), a2.data(), a.size() * 4) == 0 && std::memcmp(b.data(), b2.data(), b.size() * 4) == 0);
    Tensor stale = t[0];  // a view of other rows that kept the old packed pointer
    stale.data = q8.W.data() + quant_row_size(QuantType::Q8_0, 256) * 16;
    stale.ne[1] = 48;
    matmul_quant(&pool, stale, x.data(), T, a3.data());
    for (int64_t i = 0; i < T; i++)
      for (int r = 0; r < 48; r++)
        CHECK(same_bits(a3[size_t(i) * 48 + r], a2[size_t(i) * 64 + 16 + r]));
  }
}

// The load path: rows inside a file mapping are read from the file (pread) and packed the same;
// the mapping still reads back the file's bytes afterwards (released pages re-fault).
void check_file_source() {
  const Matrix m(QuantType::Q4_0, 32, 512, 5);
  const std::string path = "/tmp/paddock_test_quant_packed_" + std::to_string(long(getpid())) + ".bin";
  FILE* f = std::fopen(path.c_str(), "wb");
  CHECK(f != nullptr);
  if (!f) return;
  const std::vector<uint8_t> head(100, 7);  // an odd offset, as tensors sit in a GGUF
  std::fwrite(head.data(), 1, head.size(), f);
  std::fwrite(m.W.data(), 1, m.W.size(), f);
  std::fclose(f);
  std::shared_ptr<MappedFile> file;
  CHECK_OK(MappedFile::open(path, &file));
  if (file) {
    // With the path: pread. Without: through the mapping, whose pages are then given back.
    for (const char* source : {path.c_str(), (const char*)nullptr}) {
      Tensor t = make_tensor("w", DType::Q4_0, file->data() + head.size(), 512, 32);
      Tensor* ts[1] = {&t};
      std::vector<Buffer> owned;
      CHECK_OK(repack_for_decode(ts, 1, 2, source, file->data(), file->size(), &owned));
      if (packed_layout_in_use(QuantType::Q4_0)) {
        CHECK(t.packed != nullptr && std::memcmp(t.packed, m.P.data(), m.P.size()) == 0);
      } else {
        CHECK(t.packed == nullptr);
      }
      CHECK(std::memcmp(file->data() + head.size(), m.W.data(), m.W.size()) == 0);
    }
  }
  std::remove(path.c_str());
}

}  // namespace

int main() {
  for (QuantType t : {QuantType::Q8_0, QuantType::Q4_0}) {
    const Matrix m(t, 64, 32 * 9, 11 + int(t));  // 4 panels, 9 blocks per row (odd)
    check_layout_spec(m);
    check_round_trip(m);
    check_products(m);
  }
  check_model_path();
  check_file_source();
  std::printf("packed layout %s on this CPU\n", packed_layout_in_use(QuantType::Q8_0) ? "in use" : "not in use");
  return pdtest::finish("test_quant_packed");
}
