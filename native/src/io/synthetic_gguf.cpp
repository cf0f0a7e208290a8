#include "io/synthetic_gguf.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <thread>

#include "backend/cpu/ops.h"
#include "backend/cpu/quant.h"
#include "core/splitmix.h"
#include "io/gguf_writer.h"
#include "io/meta_vocab.h"
#include "io/vocab_export.h"

namespace paddock {

namespace {

const SynthShape kShapes[] = {
    // name, dim, hidden, layers, heads, kv_heads, vocab, context, tied, theta, llama3 rope, vocabulary
    {"stories260k", 64, 172, 5, 8, 4, 512, 512, true, 10000.0f, false, SynthVocabKind::Generated},
    {"stories15m", 288, 768, 6, 6, 6, 32000, 256, true, 10000.0f, false, SynthVocabKind::Llama2},
    {"tinyllama-1.1b", 2048, 5632, 22, 32, 4, 32000, 2048, false, 10000.0f, false, SynthVocabKind::Llama2},
    {"llama-3.2-1b", 2048, 8192, 16, 32, 8, 128256, 131072, true, 500000.0f, true, SynthVocabKind::Llama3},
    {"llama-2-7b", 4096, 11008, 32, 32, 32, 32000, 4096, false, 10000.0f, false, SynthVocabKind::Llama2},
};

constexpr float kLogitStd = 12.0f;  // target standard deviation of the logits

uint64_t splitmix64(uint64_t* s) { return splitmix64_next(s); }

// One row of approximately N(0, std^2) values (Irwin-Hall of four 16-bit uniforms), a function of
// (seed, tensor, row) only.
void random_row(uint64_t seed, uint64_t tensor, uint64_t row, float std, float mean, float* out, int64_t n) {
  uint64_t s = seed * 0x2545f4914f6cdd1dull ^ (tensor << 40) ^ row;
  splitmix64(&s);
  const float k = std / (65535.0f * std::sqrt(4.0f / 12.0f));
  for (int64_t i = 0; i < n; i++) {
    const uint64_t r = splitmix64(&s);
    const float u = (float)(r & 0xffff) + (float)((r >> 16) & 0xffff) + (float)((r >> 32) & 0xffff) + (float)(r >> 48);
    out[i] = mean + (u - 2.0f * 65535.0f) * k;
  }
}

bool fits(DType t, int64_t ne0) {
  const DTypeInfo* info = dtype_info((uint32_t)t);
  return info && ne0 % info->block_size == 0;
}

bool ends_with(const std::string& s, const char* suffix) {
  const size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

}  // namespace

Status synth_shape_by_name(const std::string& name, SynthShape* out) {
  std::string want = name;
  for (char& c : want) c = (char)std::tolower((unsigned char)c);
  for (const SynthShape& s : kShapes) {
    if (s.name == want) {
      *out = s;
      return Status();
    }
  }
  return PD_ERROR(InvalidArgument,
                  "unknown synthetic shape '%s' (known: stories260k, stories15m, tinyllama-1.1b, llama-3.2-1b, llama-2-7b)",
                  name.c_str());
}

Status synth_type_by_name(const std::string& name, SynthType* out) {
  std::string t = name;
  for (char& c : t) c = (char)std::tolower((unsigned char)c);
  if (t == "f32") *out = SynthType::F32;
  else if (t == "f16") *out = SynthType::F16;
  else if (t == "q8_0") *out = SynthType::Q8_0;
  else if (t == "q4_0") *out = SynthType::Q4_0;
  else if (t == "q4_k_m") *out = SynthType::Q4_K_M;
  else if (t == "bf16") *out = SynthType::BF16;
  else return PD_ERROR(InvalidArgument, "unknown synthetic type '%s' (known: f32, f16, q8_0, q4_0, q4_k_m)", name.c_str());
  return Status();
}

const char* synth_type_name(SynthType t) {
  switch (t) {
    case SynthType::F32: return "F32";
    case SynthType::F16: return "F16";
    case SynthType::Q8_0: return "Q8_0";
    case SynthType::Q4_0: return "Q4_0";
    case SynthType::Q4_K_M: return "Q4_K_M";
    case SynthType::BF16: return "BF16";
  }
  return "?";
}

DType synth_tensor_type(SynthType type, const std::string& tensor, int64_t ne0, int n_dims, int layer, int n_layers,
                        bool tied) {
  if (n_dims < 2) return DType::F32;
  const bool is_output = tensor == "output.weight" || (tied && tensor == "token_embd.weight");
  DType want = DType::F32;
  switch (type) {
    case SynthType::F32: return DType::F32;
    case SynthType::F16: return DType::F16;
    case SynthType::BF16: return DType::BF16;
    case SynthType::Q8_0: want = DType::Q8_0; break;
    case SynthType::Q4_0: want = is_output ? DType::Q6_K : DType::Q4_0; break;
    case SynthType::Q4_K_M: {
      // llama.cpp's use_more_bits(i, n): the first and last eighth of the layers, and every third between.
      const int e = n_layers / 8;
      const bool more_bits = layer >= 0 && (layer < e || layer >= 7 * n_layers / 8 || (layer - e) % 3 == 2);
      const bool six = is_output || (more_bits && (ends_with(tensor, "attn_v.weight") || ends_with(tensor, "ffn_down.weight")));
      want = six ? DType::Q6_K : DType::Q4_K;
      break;
    }
  }
  if (fits(want, ne0)) return want;
  if (want != DType::Q8_0 && want != DType::Q4_0 && fits(DType::Q8_0, ne0)) return DType::Q8_0;
  return DType::F32;
}

void synth_vocab(int64_t size, std::vector<std::string>* pieces, std::vector<float>* scores,
                 std::vector<int32_t>* types) {
  pieces->clear();
  scores->clear();
  types->clear();
  auto push = [&](const std::string& p, float score, int32_t type) {
    if ((int64_t)pieces->size() >= size) return;
    pieces->push_back(p);
    scores->push_back(score);
    types->push_back(type);
  };
  push("<unk>", 0.0f, 2);
  push("<s>", 0.0f, 3);
  push("</s>", 0.0f, 3);
  char buf[8];
  for (int b = 0; b < 256; b++) {
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    push(buf, 0.0f, 6);
  }
  const std::string space = "\xE2\x96\x81";  // ▁
  for (int len = 1; len <= 4 && (int64_t)pieces->size() < size; len++) {
    int64_t count = 1;
    for (int i = 0; i < len; i++) count *= 26;
    for (int64_t k = 0; k < count && (int64_t)pieces->size() < size; k++) {
      std::string s((size_t)len, 'a');
      int64_t v = k;
      for (int i = len - 1; i >= 0; i--, v /= 26) s[(size_t)i] = (char)('a' + v % 26);
      const float score = -(float)pieces->size();
      push(space + s, score, 1);
      push(s, score - 0.5f, 1);
    }
  }
}

Status synth_shape_vocab(const SynthShape& c, const std::string& vocab_dir, Vocab* out, std::string* chat_template) {
  chat_template->clear();
  if (vocab_dir.empty() || c.vocab_kind == SynthVocabKind::Generated) {
    Vocab v;
    synth_vocab(c.vocab, &v.pieces, &v.scores, &v.types);
    *out = std::move(v);
    return Status();
  }
  if (c.vocab_kind == SynthVocabKind::Llama2) {
    PD_TRY(load_llama2_vocab(vocab_dir + "/llama2/tokenizer.model", out));
  } else {
    PD_TRY(load_llama3_vocab(vocab_dir + "/llama3/tokenizer.model", out));
    const std::string tpl = vocab_dir + "/llama3/chat_template.jinja";
    std::ifstream f(tpl, std::ios::binary);
    if (!f) return PD_ERROR(IO, "%s: cannot open the chat template", tpl.c_str());
    chat_template->assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  if (out->size() != c.vocab) {
    return PD_ERROR(BadModelFile, "%s: %lld tokens, but shape '%s' has a vocabulary of %lld", vocab_dir.c_str(),
                    (long long)out->size(), c.name.c_str(), (long long)c.vocab);
  }
  return Status();
}

Status write_synthetic_gguf(const std::string& path, const SynthShape& c, SynthType type, uint64_t seed,
                            const std::string& vocab_dir) {
  static const uint32_t kFileType[] = {0, 1, 7, 2, 15, 32};  // llama.cpp LLAMA_FTYPE_*
  auto pick = [&](const std::string& name, int64_t ne0, int n_dims, int layer) {
    return synth_tensor_type(type, name, ne0, n_dims, layer, (int)c.layers, c.tied);
  };
  return write_synthetic_gguf_with(path, c, pick, kFileType[(int)type], synth_type_name(type), seed, vocab_dir);
}

Status write_synthetic_gguf_with(const std::string& path, const SynthShape& c, const SynthTypePicker& pick,
                                 uint32_t file_type, const std::string& type_label, uint64_t seed,
                                 const std::string& vocab_dir) {
  if (c.dim <= 0 || c.heads <= 0 || c.kv_heads <= 0 || c.dim % c.heads != 0 || c.heads % c.kv_heads != 0 ||
      c.hidden <= 0 || c.layers <= 0 || c.vocab < 259) {
    return PD_ERROR(InvalidArgument, "synthetic shape '%s' is not a valid llama shape", c.name.c_str());
  }
  const int64_t hd = c.dim / c.heads, kv = hd * c.kv_heads;
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_string("general.name", "synthetic-" + c.name + "-" + type_label);
  w.set_u32("general.file_type", file_type);
  w.set_u32("llama.context_length", (uint32_t)c.context);
  w.set_u32("llama.embedding_length", (uint32_t)c.dim);
  w.set_u32("llama.block_count", (uint32_t)c.layers);
  w.set_u32("llama.feed_forward_length", (uint32_t)c.hidden);
  w.set_u32("llama.rope.dimension_count", (uint32_t)hd);
  w.set_u32("llama.attention.head_count", (uint32_t)c.heads);
  w.set_u32("llama.attention.head_count_kv", (uint32_t)c.kv_heads);
  w.set_f32("llama.rope.freq_base", c.rope_theta);
  w.set_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  w.set_u32("llama.vocab_size", (uint32_t)c.vocab);
  w.set_u64("paddock.synthetic.seed", seed);
  // Bumped when what synth writes changes, so caches of synthetic files (bench, parity) renew.
  w.set_u32("paddock.synthetic.version", 2);
  Vocab vocab;
  std::string chat_template;
  PD_TRY(synth_shape_vocab(c, vocab_dir, &vocab, &chat_template));
  PD_TRY(set_vocab_kvs(vocab, chat_template, &w));

  auto special_rows = std::make_shared<std::vector<bool>>((size_t)c.vocab, false);
  for (int64_t i = 0; i < c.vocab && i < vocab.size(); i++)
    (*special_rows)[(size_t)i] = vocab.types[(size_t)i] == kTokenControl || vocab.types[(size_t)i] == kTokenUnknown;
  const int n_threads = (int)std::max(1u, std::min(16u, std::thread::hardware_concurrency()));
  uint64_t tensor_index = 0;
  Status bad_shape;
  // A matrix [ne0, ne1] (or a vector when ne1 == 0) of N(mean, std^2) values in the file type's
  // choice for it, generated and quantized chunk by chunk on n_threads threads.
  // control_rows: the classifier rows of control and unknown tokens (<unk> <s> </s>, Llama 3's
  // <|eot_id|> ...) get near-zero weights, so their logits sit near 0 while the top of the
  // others is ~3 standard deviations up: greedy text from random weights does not stop at once.
  auto add = [&](const std::string& name, int64_t ne0, int64_t ne1, float std, float mean, int layer,
                 bool control_rows = false) {
    const int n_dims = ne1 > 0 ? 2 : 1;
    const DType t = n_dims < 2 ? DType::F32 : pick(name, ne0, n_dims, layer);
    if (!fits(t, ne0)) {
      if (bad_shape.ok()) bad_shape = PD_ERROR(Unsupported, "tensor %s: rows of %lld elements cannot be stored as %s (block size %lld)",
                           name.c_str(), (long long)ne0, dtype_name(t), (long long)dtype_info((uint32_t)t)->block_size);
      return;
    }
    const uint64_t ti = tensor_index++;
    std::vector<int64_t> ne = {ne0};
    if (ne1 > 0) ne.push_back(ne1);
    size_t row_bytes = 0;
    dtype_row_bytes(t, ne0, &row_bytes);
    w.add_tensor_rows(name, t, ne, [=](int64_t row0, int64_t n_rows, uint8_t* dst) -> Status {
      const int nth = (int)std::min<int64_t>(n_threads, std::max<int64_t>(1, n_rows / 4));
      std::vector<int> bad(nth, 0);
      auto job = [&](int ith) {
        std::vector<float> row((size_t)ne0);
        for (int64_t r = ith; r < n_rows; r += nth) {
          const bool quiet = control_rows && (*special_rows)[(size_t)(row0 + r)];
          random_row(seed, ti, (uint64_t)(row0 + r), quiet ? std * 0.02f : std, mean, row.data(), ne0);
          if (!row_from_f32(t, row.data(), dst + (size_t)r * row_bytes, ne0)) bad[ith] = 1;
        }
      };
      std::vector<std::thread> threads;
      for (int i = 1; i < nth; i++) threads.emplace_back(job, i);
      job(0);
      for (auto& th : threads) th.join();
      for (int b : bad)
        if (b) return PD_ERROR(Internal, "cannot quantize %s to %s", name.c_str(), dtype_name(t));
      return Status();
    });
  };
  const float out_std = kLogitStd / std::sqrt((float)c.dim);
  add("token_embd.weight", c.dim, c.vocab, c.tied ? out_std : 1.0f, 0.0f, -1, c.tied);
  std::vector<float> freqs;
  if (c.llama3_rope) {
    // llama.cpp's llama3 rope factors: factor 32, low/high frequency factors 1/4, original context 8192.
    const float factor = 32.0f, lo = 1.0f, hi = 4.0f, old_ctx = 8192.0f;
    for (int64_t i = 0; i < hd / 2; i++) {
      const float freq = std::pow(c.rope_theta, -2.0f * (float)i / (float)hd);
      const float wavelen = 2.0f * 3.14159265358979f / freq;
      float f = 1.0f;
      if (wavelen > old_ctx / lo) {
        f = factor;
      } else if (wavelen >= old_ctx / hi) {
        const float smooth = (old_ctx / wavelen - lo) / (hi - lo);
        f = 1.0f / ((1.0f - smooth) / factor + smooth);
      }
      freqs.push_back(f);
    }
    w.add_tensor_rows("rope_freqs.weight", DType::F32, {hd / 2}, [freqs](int64_t, int64_t, uint8_t* dst) {
      std::memcpy(dst, freqs.data(), freqs.size() * sizeof(float));
      return Status();
    });
  }
  for (int64_t l = 0; l < c.layers; l++) {
    const std::string p = "blk." + std::to_string(l) + ".";
    const int L = (int)l;
    add(p + "attn_norm.weight", c.dim, 0, 0.05f, 1.0f, L);
    add(p + "attn_q.weight", c.dim, c.dim, 1.0f / std::sqrt((float)c.dim), 0.0f, L);
    add(p + "attn_k.weight", c.dim, kv, 1.0f / std::sqrt((float)c.dim), 0.0f, L);
    add(p + "attn_v.weight", c.dim, kv, 1.0f / std::sqrt((float)c.dim), 0.0f, L);
    add(p + "attn_output.weight", c.dim, c.dim, 1.0f / std::sqrt((float)c.dim), 0.0f, L);
    add(p + "ffn_norm.weight", c.dim, 0, 0.05f, 1.0f, L);
    add(p + "ffn_gate.weight", c.dim, c.hidden, 1.0f / std::sqrt((float)c.dim), 0.0f, L);
    add(p + "ffn_down.weight", c.hidden, c.dim, 2.0f / std::sqrt((float)c.hidden), 0.0f, L);
    add(p + "ffn_up.weight", c.dim, c.hidden, 1.0f / std::sqrt((float)c.dim), 0.0f, L);
  }
  add("output_norm.weight", c.dim, 0, 0.05f, 1.0f, -1);
  if (!c.tied) add("output.weight", c.dim, c.vocab, out_std, 0.0f, -1, true);
  PD_TRY(bad_shape);
  return w.write_file(path);
}

}  // namespace paddock
