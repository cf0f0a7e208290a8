// The token-embedding gradient of full fine-tuning (cuda_train_rows.h): positions grouped by
// token on the host (group_tokens), then one block per distinct token. It must give, bit for
// bit, what adding dx's rows t = 0 .. T-1 into grad one after the other gives (the serial
// per-column loop it replaced): the reference here is that loop in F32 on the host. A row with
// heavy repeats (a small vocabulary), tokens seen once, ragged dim (not a multiple of the 128
// threads), rows of grad no token touches (must stay as they were), guard bands around grad.
#include <cstdint>
#include <cstring>

#include "backend/cuda/cuda_train_rows.h"
#include "cuda_testing.h"

namespace {

uint32_t lcg(uint32_t* s) {
  *s = *s * 1664525u + 1013904223u;
  return *s >> 8;
}

void check_groups(const std::vector<int32_t>& tokens, const pd_cuda::TokenGroups& g) {
  bool ok = g.offsets.size() == g.ids.size() + 1 && g.offsets.front() == 0 &&
            g.offsets.back() == (int32_t)tokens.size() && g.positions.size() == tokens.size();
  for (size_t u = 0; ok && u < g.ids.size(); u++) {
    ok = (u == 0 || g.ids[u - 1] < g.ids[u]) && g.offsets[u] < g.offsets[u + 1];
    for (int32_t i = g.offsets[u]; ok && i < g.offsets[u + 1]; i++)
      ok = tokens[(size_t)g.positions[(size_t)i]] == g.ids[u] && (i == g.offsets[u] || g.positions[i - 1] < g.positions[i]);
  }
  std::printf("  %zu positions in %lld groups, layout %s\n", tokens.size(), (long long)g.unique(), ok ? "ok" : "WRONG");
  CHECK(ok);
}

void check_row(const char* name, int64_t T, int64_t vocab, int64_t dim, uint32_t seed) {
  std::printf("%s: T %lld, vocabulary %lld, dim %lld\n", name, (long long)T, (long long)vocab, (long long)dim);
  std::vector<int32_t> tokens((size_t)T);
  for (int32_t& t : tokens) t = (int32_t)(lcg(&seed) % (uint32_t)(vocab - 2));  // the last two rows stay untouched
  std::vector<float> grad((size_t)(vocab * dim)), dx((size_t)(T * dim));
  for (float& v : grad) v = (float)(lcg(&seed) % 20001) / 7000.0f - 1.4f;
  for (float& v : dx) v = (float)(lcg(&seed) % 20001) / 3000.0f - 3.3f;
  std::vector<float> want = grad;
  for (int64_t t = 0; t < T; t++)
    for (int64_t j = 0; j < dim; j++) want[(size_t)(tokens[(size_t)t] * dim + j)] += dx[(size_t)(t * dim + j)];

  pd_cuda::TokenGroups g;
  pd_cuda::group_tokens(tokens.data(), T, &g);
  check_groups(tokens, g);
  cudatest::DeviceArray<float> d_grad(grad.size()), d_dx(dx.size());
  cudatest::DeviceArray<int32_t> d_ids(g.ids.size()), d_off(g.offsets.size()), d_pos(g.positions.size());
  d_grad.upload(grad);
  d_dx.upload(dx);
  d_ids.upload(g.ids);
  d_off.upload(g.offsets);
  d_pos.upload(g.positions);
  pd_cuda::embedding_grad_add(d_grad.get(), d_dx.get(), d_ids.get(), d_off.get(), d_pos.get(), g.unique(), dim,
                              nullptr);
  CHECK(pd_gpu::synchronize());
  const std::vector<float> got = d_grad.download();
  size_t differ = 0;
  for (size_t i = 0; i < got.size(); i++) differ += std::memcmp(&got[i], &want[i], sizeof(float)) != 0;
  std::printf("  %zu of %zu values differ from the serial loop's bits; guards %s\n", differ, got.size(),
              d_grad.guards_intact() ? "intact" : "OVERWRITTEN");
  CHECK(differ == 0);
  CHECK(d_grad.guards_intact());
}

}  // namespace

int main() {
  cudatest::require_device("test_cuda_embedding_grad");
  check_row("heavy repeats", 300, 40, 200, 7);
  check_row("mostly distinct", 97, 5000, 64, 9);
  check_row("one token", 1, 10, 130, 3);
  return pdtest::finish("test_cuda_embedding_grad");
}
