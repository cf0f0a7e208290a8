// Broken HF checkpoint folders: every problem is a Status naming the file (or folder) and what is
// wrong, never a crash: missing config.json / shard / tokenizer, another architecture, RoPE
// scaling or head_dim Paddock does not run, a tensor of the wrong shape or dtype, a missing
// lm_head, a header that lies; plus a fuzz over the stories260K folder's safetensors header.
#include <cstdio>
#include <random>

#include "io/mapped_file.h"
#include "io/model_loader.h"
#include "test_hf_folder.h"
#include "stories260k.h"
#include "testing.h"

using namespace paddock;

static std::shared_ptr<Model> g_ref;

static Status load_dir(const std::string& dir) {
  std::shared_ptr<Model> m;
  return load_model(dir, LoadOptions(), &m);
}

// Writes stories260K with `o`, lets `edit` break the folder, and checks the load error.
static void expect(const char* label, hftest::WriteOptions o, const std::function<void(const std::string&)>& edit,
                   ErrorCode code, std::initializer_list<std::string> words) {
  const std::string dir = hftest::fresh_dir(std::string("bad-") + label);
  CHECK(hftest::write_hf_folder(*g_ref, dir, o));
  if (edit) edit(dir);
  Status st = load_dir(dir);
  bool has_all = true;
  for (const std::string& w : words) has_all = has_all && st.message().find(w) != std::string::npos;
  CHECK_MSG(st.code() == code && has_all, "%s: got %s", label, st.to_string().c_str());
  if (st.code() == code && has_all) std::printf("%-16s %s\n", label, st.message().c_str());
}

static void rename_tensor(std::vector<SafetensorsEntry>* e, const std::string& from, const std::string& to) {
  for (SafetensorsEntry& t : *e)
    if (t.name == from) t.name = to;
}

static void test_cases() {
  const std::string q0 = "model.layers.0.self_attn.q_proj.weight", up1 = "model.layers.1.mlp.up_proj.weight";
  hftest::WriteOptions plain;
  auto path = [](const char* label, const char* file) { return hftest::tmp_root() + "/bad-" + label + "/" + file; };

  expect("no-config", plain, [](const std::string& d) { std::remove((d + "/config.json").c_str()); },
         ErrorCode::BadModelFile, {"config.json", "bad-no-config"});
  expect("no-weights", plain, [](const std::string& d) { std::remove((d + "/model.safetensors").c_str()); },
         ErrorCode::BadModelFile, {"model.safetensors.index.json", "bad-no-weights"});
  expect("pytorch-bin", plain, [](const std::string& d) {
           std::rename((d + "/model.safetensors").c_str(), (d + "/pytorch_model.bin").c_str());
         }, ErrorCode::BadModelFile, {"model.safetensors", "pytorch_model.bin"});
  hftest::WriteOptions sharded;
  sharded.shards = 2;
  expect("missing-shard", sharded, [](const std::string& d) { std::remove((d + "/model-00002-of-00002.safetensors").c_str()); },
         ErrorCode::BadModelFile, {path("missing-shard", "model-00002-of-00002.safetensors"), "missing"});
  expect("index-lies", sharded, [](const std::string& d) {
           hftest::write_text(d + "/model.safetensors.index.json",
                              "{\"weight_map\":{\"model.norm.weight\":\"model-00001-of-00002.safetensors\"}}");
         }, ErrorCode::BadModelFile, {"model.norm.weight", "lacks it"});
  expect("index-escapes", sharded, [](const std::string& d) {
           hftest::write_text(d + "/model.safetensors.index.json", "{\"weight_map\":{\"model.norm.weight\":\"../x.safetensors\"}}");
         }, ErrorCode::BadModelFile, {"model.safetensors.index.json", "shard file name"});
  expect("no-tokenizer", plain, [](const std::string& d) { std::remove((d + "/tokenizer.json").c_str()); },
         ErrorCode::BadModelFile, {"tokenizer.json or tokenizer.model", "bad-no-tokenizer"});
  hftest::WriteOptions gpt2 = plain;
  gpt2.architecture = "GPT2LMHeadModel";
  expect("architecture", gpt2, nullptr, ErrorCode::Unsupported, {"GPT2LMHeadModel", path("architecture", "config.json")});
  hftest::WriteOptions yarn = plain;
  yarn.config_extra = ",\"rope_scaling\":{\"rope_type\":\"yarn\",\"factor\":4.0}";
  expect("rope-yarn", yarn, nullptr, ErrorCode::Unsupported, {"yarn", "config.json"});
  hftest::WriteOptions head_dim = plain;
  head_dim.config_extra = ",\"head_dim\":16";
  expect("head-dim", head_dim, nullptr, ErrorCode::Unsupported, {"head_dim 16", "config.json"});
  hftest::WriteOptions bad_json = plain;
  bad_json.config_extra = ",\"hidden_size\":";
  expect("config-json", bad_json, nullptr, ErrorCode::BadModelFile, {"malformed JSON", "config.json"});
  hftest::WriteOptions no_heads = plain;
  no_heads.config_extra = ",\"num_attention_heads\":null";
  expect("config-missing", no_heads, nullptr, ErrorCode::BadModelFile, {"num_attention_heads", "missing"});

  hftest::WriteOptions shape = plain;
  shape.mutate = [&](std::vector<SafetensorsEntry>* e) {
    for (SafetensorsEntry& t : *e)
      if (t.name == up1) t.shape = {64, 172};  // transposed: same bytes, wrong shape
  };
  expect("wrong-shape", shape, nullptr, ErrorCode::BadModelFile, {up1, "expected shape [64, 172], found [172, 64]"});
  hftest::WriteOptions q_shape = plain;
  q_shape.mutate = [&](std::vector<SafetensorsEntry>* e) {
    for (SafetensorsEntry& t : *e)
      if (t.name == q0) t.shape = {32, 128};  // same bytes; must not be permuted out of bounds
  };
  expect("q-shape", q_shape, nullptr, ErrorCode::BadModelFile, {q0, "expected shape [64, 64], found [128, 32]"});
  hftest::WriteOptions dtype = plain;
  dtype.mutate = [&](std::vector<SafetensorsEntry>* e) {
    for (SafetensorsEntry& t : *e)
      if (t.name == q0) t.dtype = "I32";  // 4 bytes per element like F32
  };
  expect("int-dtype", dtype, nullptr, ErrorCode::Unsupported, {q0, "I32", path("int-dtype", "model.safetensors")});
  hftest::WriteOptions unknown = plain;
  unknown.mutate = [&](std::vector<SafetensorsEntry>* e) {
    for (SafetensorsEntry& t : *e)
      if (t.name == q0) t.dtype = "F24";
  };
  expect("unknown-dtype", unknown, nullptr, ErrorCode::Unsupported, {q0, "'F24'", "model.safetensors"});
  hftest::WriteOptions missing = plain;
  missing.mutate = [&](std::vector<SafetensorsEntry>* e) { rename_tensor(e, up1, "model.layers.1.mlp.up.weight"); };
  expect("missing-tensor", missing, nullptr, ErrorCode::BadModelFile, {up1, "missing", "model.safetensors"});
  hftest::WriteOptions untied = plain;
  untied.config_extra = ",\"tie_word_embeddings\":false";
  expect("no-lm-head", untied, nullptr, ErrorCode::BadModelFile, {"lm_head.weight", "tie_word_embeddings"});
  expect("offsets", plain, [](const std::string& d) {
           // Cut the file: the last tensors' data_offsets now point past its end.
           std::string bytes;
           if (read_file(d + "/model.safetensors", &bytes).ok()) hftest::write_text(d + "/model.safetensors", bytes.substr(0, bytes.size() - 100));
         }, ErrorCode::BadModelFile, {"model.norm.weight", "outside", "model.safetensors"});
  expect("header-length", plain, [](const std::string& d) {
           std::string bytes;
           if (!read_file(d + "/model.safetensors", &bytes).ok()) return;
           bytes[5] = 0x7f;
           hftest::write_text(d + "/model.safetensors", bytes);
         }, ErrorCode::BadModelFile, {"header length", "beyond the end", "model.safetensors"});
}

// Random edits of the folder's safetensors header: load_model returns, OK or with a message.
static void test_fuzz() {
  const std::string dir = hftest::fresh_dir("fuzz");
  CHECK(hftest::write_hf_folder(*g_ref, dir, hftest::WriteOptions()));
  const std::string file = dir + "/model.safetensors";
  std::string valid;
  CHECK_OK(read_file(file, &valid));
  uint64_t header = 0;
  for (int i = 7; i >= 0; i--) header = (header << 8) | (uint8_t)valid[(size_t)i];
  std::mt19937 rng(99);
  int ok = 0, refused = 0;
  for (int iter = 0; iter < 300; iter++) {
    std::string b = valid;
    for (int e = 0; e < 1 + (int)(rng() % 3); e++) {
      const size_t at = rng() % (8 + header);
      if (rng() % 2) b[at] = "0123456789[],:\"-"[rng() % 16];
      else b[at] = (char)(rng() & 0xFF);
    }
    CHECK(hftest::write_text(file, b));
    Status st = load_dir(dir);
    if (st.ok()) ok++;
    else refused++;
    if (!st.ok()) CHECK(!st.message().empty());
  }
  std::printf("folder fuzz: 300 mutated headers, %d loaded, %d refused with a message, no crash\n", ok, refused);
  CHECK(refused > 200);
}

int main(int argc, char** argv) {
  const std::string data = pdtest::stories260k_dir(argc, argv);
  if (!pdtest::stories260k_present(data)) return pdtest::kSkip;
  g_ref = pdtest::load_stories260k(data);
  if (!g_ref) return pdtest::finish("test_hf_bad_inputs");
  test_cases();
  test_fuzz();
  hftest::remove_tmp_root();
  return pdtest::finish("test_hf_bad_inputs");
}
