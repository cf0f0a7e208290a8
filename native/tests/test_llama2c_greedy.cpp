// stories260K end to end against llama2.c's run.c: greedy generation of 200 tokens from BOS
// must print exactly expected_run_c_t0_n200.txt, from the legacy and the version-1 checkpoint;
// decoding a sequence token by token equals one batched decode; wrong files give clear errors.
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "infer/sampler.h"
#include "io/mapped_file.h"
#include "io/model_loader.h"
#include "model/llama_context.h"
#include "testing.h"

using namespace paddock;

// run.c's generate loop: BOS at pos 0, up to `steps` forwards, stop on BOS, print pieces
// (leading space dropped after BOS, non-printable single bytes skipped as safe_printf does).
static std::string greedy_text(std::shared_ptr<Model> m, int steps, int threads, double* tok_per_s) {
  std::unique_ptr<LlamaContext> ctx;
  CHECK_OK(LlamaContext::create(m, 0, threads, &ctx));
  if (!ctx) return "";
  std::string out;
  int32_t token = m->vocab.bos_id;
  std::vector<float> logits;
  auto t0 = std::chrono::steady_clock::now();
  int n = 0;
  for (int pos = 0; pos < steps; pos++) {
    Status st = ctx->decode(&token, 1, &logits);
    if (!st.ok()) {
      CHECK_OK(st);
      break;
    }
    n++;
    const int32_t next = argmax(logits.data(), (int64_t)logits.size());
    if (next == 1) break;
    std::string piece = m->vocab.token_bytes(next);
    if (token == 1 && !piece.empty() && piece[0] == ' ') piece.erase(0, 1);
    if (piece.size() == 1 && !(std::isprint((unsigned char)piece[0]) || std::isspace((unsigned char)piece[0]))) piece.clear();
    out += piece;
    token = next;
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (tok_per_s) *tok_per_s = n / s;
  return out;
}

// A prompt longer than one prefill chunk (LlamaContext::kMaxChunk) with the threaded attention
// path: batched equals token by token.
static void test_long_prefill(std::shared_ptr<Model> m) {
  std::vector<int32_t> seq(300);
  for (size_t i = 0; i < seq.size(); i++) seq[i] = (int32_t)((i * 7919 + 1) % 512);
  std::unique_ptr<LlamaContext> a, b;
  CHECK_OK(LlamaContext::create(m, 512, 2, &a));
  CHECK_OK(LlamaContext::create(m, 512, 2, &b));
  if (!a || !b) return;
  std::vector<float> la, lb;
  for (int32_t t : seq) CHECK_OK(a->decode(&t, 1, &la));
  CHECK_OK(b->decode(seq.data(), (int64_t)seq.size(), &lb));
  double max_rel = 0;
  for (size_t i = 0; i < la.size() && i < lb.size(); i++)
    max_rel = std::max(max_rel, (double)std::fabs(la[i] - lb[i]) / (std::fabs(la[i]) + 1e-3));
  CHECK_MSG(la.size() == lb.size() && max_rel <= 1e-5, "300-token prefill vs sequential: max rel diff %g", max_rel);
}

static void test_batch_equals_sequential(std::shared_ptr<Model> m) {
  std::vector<int32_t> seq = {1, 403, 407, 261, 378, 282, 13, 3, 44, 511, 300, 301, 302, 20, 21, 22, 23, 24, 25, 26};
  for (int threads : {1, 2}) {
    std::unique_ptr<LlamaContext> a, b;
    CHECK_OK(LlamaContext::create(m, 64, threads, &a));
    CHECK_OK(LlamaContext::create(m, 64, threads, &b));
    if (!a || !b) return;
    std::vector<float> la, lb;
    for (int32_t t : seq) CHECK_OK(a->decode(&t, 1, &la));
    CHECK_OK(b->decode(seq.data(), (int64_t)seq.size(), &lb));
    double max_rel = 0;
    for (size_t i = 0; i < la.size(); i++) max_rel = std::max(max_rel, (double)std::fabs(la[i] - lb[i]) / (std::fabs(la[i]) + 1e-3));
    CHECK_MSG(la.size() == lb.size() && max_rel <= 1e-5, "threads=%d: batched vs sequential max rel diff %g", threads, max_rel);
    CHECK(a->position() == (int64_t)seq.size() && b->position() == (int64_t)seq.size());
    // truncate + re-decode of the tail gives the same logits again
    CHECK_OK(b->truncate(10));
    CHECK_OK(b->decode(seq.data() + 10, (int64_t)seq.size() - 10, &lb));
    CHECK(std::memcmp(la.data(), lb.data(), la.size() * 4) == 0 || max_rel <= 1e-5);
    // overflow and bad ids are errors that leave the context unchanged
    std::vector<int32_t> many(64, 5);
    Status st = b->decode(many.data(), 64, &lb);
    CHECK(st.code() == ErrorCode::InvalidArgument && b->position() == (int64_t)seq.size());
    int32_t bad = 512;
    CHECK(b->decode(&bad, 1, &lb).code() == ErrorCode::InvalidArgument);
  }
}

int main(int argc, char** argv) {
  const std::string root = pdtest::testdata_root(argc, argv);
  const std::string dir = root + "/models/stories260K/";
  if (!pdtest::file_exists(dir + "stories260K.bin") || !pdtest::file_exists(dir + "tok512.bin")) {
    std::printf("stories260K not found under '%s': skipping\n", dir.c_str());
    return pdtest::kSkip;
  }
  std::string expected;
  CHECK_OK(read_file(dir + "expected_run_c_t0_n200.txt", &expected));
  LoadOptions o;
  o.tokenizer_path = dir + "tok512.bin";
  for (const char* file : {"stories260K.bin", "stories260K.v1.bin"}) {
    std::shared_ptr<Model> m;
    CHECK_OK(load_model(dir + file, o, &m));
    if (!m) continue;
    CHECK(m->config.dim == 64 && m->config.n_layers == 5 && m->config.n_heads == 8 && m->config.n_kv_heads == 4 &&
          m->config.vocab_size == 512 && m->config.tied_embeddings && m->config.hidden_dim == 172);
    for (int threads : {1, 2}) {
      double tps = 0;
      std::string text = greedy_text(m, 200, threads, &tps);
      CHECK_MSG(text == expected, "%s threads=%d: greedy text differs:\n%s", file, threads, text.c_str());
      std::printf("%s, %d thread(s): greedy 200 tokens match run.c (%.0f tokens/s)\n", file, threads, tps);
    }
    test_batch_equals_sequential(m);
    test_long_prefill(m);
  }
  // without a tokenizer a llama2.c model cannot load (but its info can be read)
  std::shared_ptr<Model> m;
  Status st = load_model(dir + "stories260K.bin", LoadOptions(), &m);
  CHECK(st.code() == ErrorCode::InvalidArgument);
  LoadOptions info;
  info.info_only = true;
  CHECK_OK(load_model(dir + "stories260K.bin", info, &m));
  // a truncated checkpoint names the expected and the found size
  std::string data;
  CHECK_OK(read_file(dir + "stories260K.bin", &data));
  const std::string cut = "./truncated.tmp.bin";
  std::FILE* f = std::fopen(cut.c_str(), "wb");
  if (f) {
    std::fwrite(data.data(), 1, data.size() - 100, f);
    std::fclose(f);
  }
  st = load_model(cut, o, &m);
  CHECK_MSG(st.code() == ErrorCode::BadModelFile && st.message().find("expected 1056540 bytes") != std::string::npos &&
                st.message().find(cut) != std::string::npos,
            "%s", st.to_string().c_str());
  std::printf("truncated: %s\n", st.message().c_str());
  std::remove(cut.c_str());
  return pdtest::finish("test_llama2c_greedy");
}
