// Mutation fuzzing of the GGUF reader: a valid model image has bytes of its header, key/values
// and tensor table flipped, overwritten or cut (fixed seed, a few thousand cases); every case
// must come back as an error Status or as a model that runs, never a crash or a huge allocation.
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "io/gguf.h"
#include "io/mapped_file.h"
#include "io/model_loader.h"
#include "model/llama_context.h"
#include "synthetic_model.h"
#include "testing.h"

using namespace paddock;

int main(int argc, char** argv) {
  pdtest::SyntheticModel syn;
  GgufWriter w;
  syn.fill(w, 99);
  std::vector<uint8_t> image;
  CHECK_OK(w.write_to_memory(&image));
  GgufFile clean;
  CHECK_OK(gguf_parse(image.data(), image.size(), "clean.gguf", &clean));
  const size_t meta_end = (size_t)clean.data_offset;  // mutate only header + KV + tensor table
  std::printf("image: %zu bytes, metadata %zu bytes\n", image.size(), meta_end);

  const std::string path = "./fuzz.tmp.gguf";
  std::mt19937_64 rng(20240611);
  int n_ok = 0, n_err = 0, n_ran = 0;
  int by_code[8] = {0};
  const int kCases = 3000;
  for (int iter = 0; iter < kCases; iter++) {
    std::vector<uint8_t> buf(image);
    const int kind = (int)(rng() % 4);
    if (kind == 0) {  // a few random bit flips
      for (int k = 0, n = 1 + (int)(rng() % 4); k < n; k++) buf[rng() % meta_end] ^= (uint8_t)(1u << (rng() % 8));
    } else if (kind == 1) {  // random bytes
      for (int k = 0, n = 1 + (int)(rng() % 8); k < n; k++) buf[rng() % meta_end] = (uint8_t)rng();
    } else if (kind == 2) {  // an extreme 64-bit value (counts, lengths, dims, offsets)
      const uint64_t vals[] = {0, 1, 0xffffffffffffffffull, 0x7fffffffffffffffull, 0x100000000ull, 0xffffffffull,
                               (uint64_t)image.size(), 1ull << 40};
      size_t at = rng() % (meta_end - 8);
      std::memcpy(&buf[at], &vals[rng() % 8], 8);
    } else {  // truncation anywhere (including inside the tensor data)
      buf.resize(1 + rng() % (buf.size() - 1));
    }
    // Parse in memory, then the full load path from a file (vocabulary, config, tensor binding).
    GgufFile g;
    (void)gguf_parse(buf.data(), buf.size(), "mem.gguf", &g);
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) {
      CHECK_MSG(false, "cannot write %s", path.c_str());
      break;
    }
    std::fwrite(buf.data(), 1, buf.size(), f);
    std::fclose(f);
    std::shared_ptr<Model> m;
    Status st = load_model(path, LoadOptions(), &m);
    if (!st.ok()) {
      n_err++;
      by_code[(int)st.code()]++;
      CHECK_MSG(st.message().find(path) != std::string::npos, "message does not name the file: %s", st.message().c_str());
      continue;
    }
    n_ok++;
    if (m->vocab_only) continue;
    std::unique_ptr<LlamaContext> ctx;
    if (!LlamaContext::create(m, 16, 1, &ctx).ok()) continue;
    std::vector<int32_t> toks = {1, 2, (int32_t)(m->config.vocab_size - 1)};
    std::vector<float> logits;
    if (ctx->decode(toks.data(), 3, &logits).ok()) n_ran++;
  }
  std::remove(path.c_str());
  std::printf("%d mutations: %d rejected (BAD_MODEL_FILE %d, UNSUPPORTED %d, other %d), %d loaded, %d of those ran\n",
              kCases, n_err, by_code[(int)ErrorCode::BadModelFile], by_code[(int)ErrorCode::Unsupported],
              n_err - by_code[(int)ErrorCode::BadModelFile] - by_code[(int)ErrorCode::Unsupported], n_ok, n_ran);
  CHECK(n_err > kCases / 4);  // the mutations really hit the parser
  (void)argc;
  (void)argv;
  return pdtest::finish("test_gguf_fuzz");
}
