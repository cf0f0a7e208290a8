#include "io/meta_vocab.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <tuple>
#include <unordered_map>

#include "infer/bpe_byte_unicode.h"
#include "infer/bpe_tiktoken_file.h"
#include "infer/tokenizer_files.h"

namespace paddock {

namespace {

Status read_whole_file(const std::string& path, std::string* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return PD_ERROR(IO, "%s: cannot open the tokenizer file", path.c_str());
  std::ostringstream ss;
  ss << f.rdbuf();
  if (f.bad()) return PD_ERROR(IO, "%s: read failed", path.c_str());
  *out = ss.str();
  return Status();
}

constexpr int32_t kLlama3Base = 128000;   // first special id: the tiktoken file holds ranks 0..127999
constexpr int32_t kLlama3Specials = 256;

}  // namespace

Status load_llama2_vocab(const std::string& path, Vocab* out) {
  std::string data;
  PD_TRY(read_whole_file(path, &data));
  PD_TRY(parse_spm_model_proto(data, path, out));
  return Status();
}

std::vector<std::string> llama31_special_tokens() {
  std::vector<std::string> names = {"<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>",
                                    "<|reserved_special_token_1|>", "<|finetune_right_pad_id|>",
                                    "<|reserved_special_token_2|>", "<|start_header_id|>", "<|end_header_id|>",
                                    "<|eom_id|>", "<|eot_id|>", "<|python_tag|>"};
  for (int i = 3; (int)names.size() < kLlama3Specials; i++) names.push_back("<|reserved_special_token_" + std::to_string(i) + "|>");
  return names;
}

std::vector<std::string> merges_from_ranks(const std::vector<std::string>& ranked) {
  std::unordered_map<std::string, int32_t> rank_of;
  rank_of.reserve(ranked.size() * 2);
  for (size_t r = 0; r < ranked.size(); r++)
    if (!ranked[r].empty()) rank_of.emplace(ranked[r], (int32_t)r);
  // (rank of the merged token, rank of left, rank of right)
  std::vector<std::tuple<int32_t, int32_t, int32_t>> found;
  for (size_t r = 0; r < ranked.size(); r++) {
    const std::string& t = ranked[r];
    for (size_t i = 1; i < t.size(); i++) {
      auto l = rank_of.find(t.substr(0, i));
      if (l == rank_of.end()) continue;
      auto rt = rank_of.find(t.substr(i));
      if (rt == rank_of.end()) continue;
      found.emplace_back((int32_t)r, l->second, rt->second);
    }
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> merges;
  merges.reserve(found.size());
  for (const auto& [r, l, rt] : found) merges.push_back(gpt2_bytes_to_text(ranked[l]) + " " + gpt2_bytes_to_text(ranked[rt]));
  return merges;
}

Status load_llama3_vocab(const std::string& path, Vocab* out) {
  std::string data;
  PD_TRY(read_whole_file(path, &data));
  std::vector<std::string> ranked;
  const BpeStatus bs = bpe_parse_tiktoken(data, path, &ranked);
  if (!bs.ok()) return PD_ERROR(BadModelFile, "%s: %s", path.c_str(), bs.message.c_str());
  if ((int64_t)ranked.size() != kLlama3Base) {
    return PD_ERROR(BadModelFile, "%s: expected Llama 3's %d ranks, found %zu", path.c_str(), kLlama3Base, ranked.size());
  }
  Vocab v;
  v.model = "gpt2";
  v.pre = "llama-bpe";  // llama.cpp's name for Llama 3's pre-split regex
  v.pieces.reserve(kLlama3Base + kLlama3Specials);
  for (const std::string& b : ranked) v.pieces.push_back(gpt2_bytes_to_text(b));
  v.types.assign(v.pieces.size(), kTokenNormal);
  for (const std::string& s : llama31_special_tokens()) {
    v.pieces.push_back(s);
    v.types.push_back(kTokenControl);
  }
  v.merges = merges_from_ranks(ranked);
  v.bos_id = kLlama3Base;      // <|begin_of_text|>
  v.eos_id = kLlama3Base + 9;  // <|eot_id|>: the Instruct models end a turn (and generation) here
  v.eot_id = kLlama3Base + 9;
  v.unk_id = 0;
  v.add_bos = true;
  v.add_eos = false;
  v.add_space_prefix = false;
  *out = std::move(v);
  return Status();
}

}  // namespace paddock
