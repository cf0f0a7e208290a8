// The safetensors reader: a written file reads back (names, dtypes, shapes, bytes, metadata,
// 8-byte aligned data); each malformed header gives its message naming the file and the tensor;
// a fuzz over mutated headers never crashes and never yields a tensor outside the file.
#include <cstdio>
#include <cstring>
#include <random>

#include <unistd.h>

#include "io/mapped_file.h"
#include "io/safetensors.h"
#include "io/safetensors_writer.h"
#include "testing.h"

using namespace paddock;

// Per process, so test runs of parallel builds do not share the file.
static const std::string kPath = "/tmp/paddock-test-safetensors-" + std::to_string((long)getpid()) + ".safetensors";

static bool write_bytes(const std::string& path, const std::string& bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return false;
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  return std::fclose(f) == 0 && ok;
}

// A file made of `header` (its length prefixed) and `data_bytes` bytes of data.
static std::string raw_file(const std::string& header, size_t data_bytes) {
  std::string out(8, '\0');
  const uint64_t n = header.size();
  for (int i = 0; i < 8; i++) out[(size_t)i] = (char)(n >> (8 * i));
  return out + header + std::string(data_bytes, '\x01');
}

static Status parse_bytes(const std::string& bytes, SafetensorsFile* out) {
  if (!write_bytes(kPath, bytes)) return PD_ERROR(IO, "cannot write %s", kPath.c_str());
  std::shared_ptr<MappedFile> f;
  PD_TRY(MappedFile::open(kPath, &f));
  return safetensors_parse(f, out);
}

static void expect_error(const std::string& bytes, ErrorCode code, std::initializer_list<const char*> words) {
  SafetensorsFile f;
  Status st = parse_bytes(bytes, &f);
  bool has_all = st.message().find(kPath) != std::string::npos;
  for (const char* w : words) has_all = has_all && st.message().find(w) != std::string::npos;
  CHECK_MSG(st.code() == code && has_all, "got %s", st.to_string().c_str());
}

static void test_roundtrip() {
  std::vector<float> a = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f, 8.0f};
  std::vector<uint16_t> b = {0x3c00, 0xc000, 0x7bff};
  std::vector<SafetensorsEntry> entries = {
      {"model.a", "F32", {2, 3}, a.data(), a.size() * 4},
      {"odd \"name\"\n", "F16", {3}, b.data(), b.size() * 2},
      {"empty", "BF16", {0, 4}, nullptr, 0},
  };
  CHECK_OK(write_safetensors(kPath, entries, {{"format", "pt"}}));
  std::shared_ptr<MappedFile> file;
  CHECK_OK(MappedFile::open(kPath, &file));
  SafetensorsFile f;
  CHECK_OK(safetensors_parse(file, &f));
  CHECK(f.tensors.size() == 3 && f.metadata.size() == 1 && f.metadata[0].second == "pt");
  const SafetensorsTensor* ta = f.find("model.a");
  const SafetensorsTensor* tb = f.find("odd \"name\"\n");
  CHECK(ta && ta->type == DType::F32 && ta->is_float && ta->shape == std::vector<int64_t>({2, 3}) && ta->nbytes == 24);
  CHECK(ta && std::memcmp(ta->data, a.data(), 24) == 0 && (uintptr_t)(ta->data - file->data()) % 8 == 0);
  CHECK(tb && tb->type == DType::F16 && std::memcmp(tb->data, b.data(), 6) == 0);
  const SafetensorsTensor* te = f.find("empty");
  CHECK(te && te->type == DType::BF16 && te->nbytes == 0);
  // Integer dtypes are read (reported when a loader needs them as weights), not float.
  SafetensorsFile g;
  CHECK_OK(parse_bytes(raw_file("{\"ids\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}", 16), &g));
  CHECK(g.tensors.size() == 1 && !g.tensors[0].is_float && g.tensors[0].dtype == "I64");
}

static void test_bad_headers() {
  expect_error(std::string("\x05\0\0", 3), ErrorCode::BadModelFile, {"8 bytes"});
  expect_error(raw_file("{}", 0).substr(0, 9), ErrorCode::BadModelFile, {"beyond the end"});
  std::string huge = raw_file("{}", 0);
  huge[6] = 1;  // 2^48 + 2 bytes of header
  expect_error(huge, ErrorCode::BadModelFile, {"beyond the end"});
  expect_error(raw_file("{\"a\": [1,", 0), ErrorCode::BadModelFile, {"not a JSON object"});
  expect_error(raw_file("[1, 2]", 0), ErrorCode::BadModelFile, {"not a JSON object"});
  expect_error(raw_file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 8), ErrorCode::BadModelFile,
               {"tensor w", "outside"});
  expect_error(raw_file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[8,4]}}", 16), ErrorCode::BadModelFile,
               {"tensor w", "outside"});
  expect_error(raw_file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,16]}}", 16), ErrorCode::BadModelFile,
               {"tensor w", "[2, 3]", "24 bytes"});
  expect_error(raw_file("{\"w\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,1]}}", 1), ErrorCode::Unsupported,
               {"tensor w", "'Q4'"});
  expect_error(raw_file("{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,0]}}", 0), ErrorCode::BadModelFile,
               {"tensor w", "shape"});
  expect_error(raw_file("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,0]}}", 0),
               ErrorCode::BadModelFile, {"tensor w", "shape"});
  expect_error(raw_file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4), ErrorCode::BadModelFile,
               {"tensor w", "data_offsets"});
  expect_error(raw_file("{\"w\":3}", 0), ErrorCode::BadModelFile, {"tensor w"});
  expect_error(raw_file("{\"__metadata__\":[]}", 0), ErrorCode::BadModelFile, {"__metadata__"});
}

// Random byte edits, insertions, deletions and truncations of a valid file: every outcome is a
// Status, and a successful parse only ever points inside the mapping.
static void test_fuzz() {
  std::vector<float> w(64, 0.5f);
  std::vector<SafetensorsEntry> entries = {{"model.embed_tokens.weight", "F32", {8, 4}, w.data(), 128},
                                           {"model.norm.weight", "BF16", {4}, w.data(), 8},
                                           {"lm_head.weight", "F16", {8, 4}, w.data(), 64}};
  CHECK_OK(write_safetensors(kPath, entries, {{"format", "pt"}}));
  std::string valid;
  CHECK_OK(read_file(kPath, &valid));
  uint64_t header = 0;
  for (int i = 7; i >= 0; i--) header = (header << 8) | (uint8_t)valid[(size_t)i];
  std::mt19937 rng(1234);
  int parsed = 0, refused = 0;
  for (int iter = 0; iter < 3000; iter++) {
    std::string b = valid;
    const int edits = 1 + (int)(rng() % 4);
    for (int e = 0; e < edits; e++) {
      const size_t span = std::min<size_t>(b.size(), 8 + header);
      const size_t at = rng() % span;
      switch (rng() % 5) {
        case 0: b[at] = (char)(rng() & 0xFF); break;
        case 1: b[at] = "0123456789[]{},:\"-.e"[rng() % 20]; break;
        case 2: b.insert(at, 1, "0123456789,\""[rng() % 12]); break;
        case 3: b.erase(at, 1 + rng() % 3); break;
        default: b.resize(rng() % (b.size() + 1)); break;
      }
      if (b.empty()) b = "x";
    }
    SafetensorsFile f;
    std::shared_ptr<MappedFile> file;
    if (!write_bytes(kPath, b) || !MappedFile::open(kPath, &file).ok()) continue;
    Status st = safetensors_parse(file, &f);
    if (!st.ok()) {
      refused++;
      CHECK(!st.message().empty() && st.message().find(kPath) != std::string::npos);
      continue;
    }
    parsed++;
    for (const SafetensorsTensor& t : f.tensors) {
      const bool inside = t.data >= file->data() && t.data + t.nbytes <= file->data() + file->size();
      if (!inside) CHECK_MSG(inside, "fuzz iteration %d: tensor %s points outside the file", iter, t.name.c_str());
    }
  }
  std::printf("fuzz: 3000 mutated files, %d parsed, %d refused with a message, no crash\n", parsed, refused);
  CHECK(parsed + refused > 2900 && refused > 1000);
}

int main() {
  test_roundtrip();
  test_bad_headers();
  test_fuzz();
  std::remove(kPath.c_str());
  return pdtest::finish("test_safetensors");
}
