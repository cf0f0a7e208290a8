// A tiny random-weight llama model as a GGUF image in memory, for tests that must not depend
// on external files: 2 layers, grouped-query attention, an FFN width that is no multiple of 8
// (kernel tails), a byte-fallback vocabulary with a few merges.
#pragma once

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "io/gguf_writer.h"

namespace pdtest {

struct SyntheticModel {
  int dim = 32, hidden = 44, layers = 2, heads = 4, kv_heads = 2, ctx = 64;
  std::vector<std::string> pieces;
  std::vector<float> scores;
  std::vector<int32_t> types;
  std::vector<std::vector<float>> tensors;  // storage for the writer's views
  bool tied = true;
  std::string arch = "llama";
  std::string odd_tensor;                        // stored as odd_type (raw bytes) to test refusals
  paddock::DType odd_type = paddock::DType::Q8_0;
  std::vector<uint8_t> odd_bytes;

  int vocab() const { return (int)pieces.size(); }

  void build_vocab() {
    pieces = {"<unk>", "<s>", "</s>"};
    types = {2, 3, 3};
    char buf[8];
    for (int b = 0; b < 256; b++) {
      std::snprintf(buf, sizeof buf, "<0x%02X>", b);
      pieces.push_back(buf);
      types.push_back(6);
    }
    for (const char* p : {"\xE2\x96\x81", "a", "b", "c", "\xE2\x96\x81" "a", "ab", "abc", "\xE2\x96\x81" "ab"}) {
      pieces.push_back(p);
      types.push_back(1);
    }
    scores.assign(pieces.size(), 0.0f);
    for (size_t i = 259; i < pieces.size(); i++) scores[i] = -(float)(i - 259);
  }

  const float* add(paddock::GgufWriter& w, std::mt19937& rng, const std::string& name, int ne0, int ne1, bool norm) {
    std::normal_distribution<float> nd(0.0f, 0.3f);
    tensors.emplace_back((size_t)ne0 * (ne1 > 0 ? ne1 : 1));
    for (float& x : tensors.back()) x = norm ? 1.0f + 0.1f * nd(rng) : nd(rng);
    std::vector<int64_t> ne = {ne0};
    if (ne1 > 0) ne.push_back(ne1);
    size_t row = 0;
    if (name == odd_tensor && paddock::dtype_row_bytes(odd_type, ne0, &row)) {
      odd_bytes.assign(row * (size_t)(ne1 > 0 ? ne1 : 1), 0x11);
      w.add_tensor(name, odd_type, ne, odd_bytes.data(), odd_type);
      return tensors.back().data();
    }
    w.add_tensor(name, paddock::DType::F32, ne, tensors.back().data(), paddock::DType::F32);
    return tensors.back().data();
  }

  // Fills a writer with the whole model (keep this object alive until the writer has written).
  void fill(paddock::GgufWriter& w, uint32_t seed = 1234) {
    build_vocab();
    tensors.clear();
    tensors.reserve(64);
    std::mt19937 rng(seed);
    const int kv = dim / heads * kv_heads;
    w.set_string("general.architecture", arch);
    w.set_string("general.name", "synthetic");
    w.set_u32("llama.context_length", (uint32_t)ctx);
    w.set_u32("llama.embedding_length", (uint32_t)dim);
    w.set_u32("llama.block_count", (uint32_t)layers);
    w.set_u32("llama.feed_forward_length", (uint32_t)hidden);
    w.set_u32("llama.attention.head_count", (uint32_t)heads);
    w.set_u32("llama.attention.head_count_kv", (uint32_t)kv_heads);
    w.set_f32("llama.rope.freq_base", 10000.0f);
    w.set_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
    w.set_string("tokenizer.ggml.model", "llama");
    w.set_string_array("tokenizer.ggml.tokens", pieces);
    w.set_f32_array("tokenizer.ggml.scores", scores);
    w.set_i32_array("tokenizer.ggml.token_type", types);
    w.set_u32("tokenizer.ggml.bos_token_id", 1);
    w.set_u32("tokenizer.ggml.eos_token_id", 2);
    w.set_u32("tokenizer.ggml.unknown_token_id", 0);
    w.set_bool("tokenizer.ggml.add_bos_token", true);
    add(w, rng, "token_embd.weight", dim, vocab(), false);
    for (int l = 0; l < layers; l++) {
      const std::string p = "blk." + std::to_string(l) + ".";
      add(w, rng, p + "attn_norm.weight", dim, 0, true);
      add(w, rng, p + "attn_q.weight", dim, dim, false);
      add(w, rng, p + "attn_k.weight", dim, kv, false);
      add(w, rng, p + "attn_v.weight", dim, kv, false);
      add(w, rng, p + "attn_output.weight", dim, dim, false);
      add(w, rng, p + "ffn_norm.weight", dim, 0, true);
      add(w, rng, p + "ffn_gate.weight", dim, hidden, false);
      add(w, rng, p + "ffn_down.weight", hidden, dim, false);
      add(w, rng, p + "ffn_up.weight", dim, hidden, false);
    }
    add(w, rng, "output_norm.weight", dim, 0, true);
    if (!tied) add(w, rng, "output.weight", dim, vocab(), false);
  }
};

}  // namespace pdtest
