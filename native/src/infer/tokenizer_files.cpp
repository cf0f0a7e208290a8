#include "infer/tokenizer_files.h"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <unordered_map>

#include <sys/stat.h>

#include "infer/bpe_byte_unicode.h"
#include "infer/bpe_tiktoken_file.h"
#include "infer/bpe_tokenizer.h"
#include "io/gguf.h"
#include "io/json_reader.h"
#include "io/mapped_file.h"
#include "io/model_loader.h"

namespace paddock {

namespace {

// ---- protobuf (wire format only) ----

struct PbReader {
  const uint8_t* p;
  const uint8_t* end;
  bool ok = true;

  bool done() const { return p >= end || !ok; }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p >= end) break;
      const uint8_t b = *p++;
      v |= (uint64_t)(b & 0x7F) << shift;
      if (!(b & 0x80)) return v;
    }
    ok = false;
    return 0;
  }
  // A length-delimited field's bytes.
  std::string_view bytes() {
    const uint64_t n = varint();
    if (!ok || n > (uint64_t)(end - p)) {
      ok = false;
      return {};
    }
    std::string_view s((const char*)p, (size_t)n);
    p += n;
    return s;
  }
  uint32_t fixed32() {
    if (end - p < 4) {
      ok = false;
      return 0;
    }
    uint32_t v;
    std::memcpy(&v, p, 4);
    p += 4;
    return v;
  }
  void skip(uint32_t wire) {
    switch (wire) {
      case 0: varint(); break;
      case 1: if (end - p < 8) ok = false; else p += 8; break;
      case 2: bytes(); break;
      case 5: fixed32(); break;
      default: ok = false;
    }
  }
};

PbReader pb(std::string_view s) { return PbReader{(const uint8_t*)s.data(), (const uint8_t*)s.data() + s.size()}; }

Status from_bpe_status(const BpeStatus& s, const std::string& name) {
  if (s.ok()) return Status();
  if (s.code == BpeStatus::IO_ERROR) return PD_ERROR(IO, "%s: %s", name.c_str(), s.message.c_str());
  return PD_ERROR(BadModelFile, "%s: %s", name.c_str(), s.message.c_str());
}

bool looks_tiktoken(std::string_view d) {
  const size_t nl = d.find('\n');
  std::string_view line = d.substr(0, nl == std::string_view::npos ? d.size() : nl);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const size_t sp = line.find(' ');
  if (sp == 0 || sp == std::string_view::npos || sp + 1 >= line.size()) return false;
  for (size_t i = 0; i < sp; i++) {
    const char c = line[i];
    if (!(std::isalnum((unsigned char)c) || c == '+' || c == '/' || c == '=')) return false;
  }
  for (size_t i = sp + 1; i < line.size(); i++)
    if (!std::isdigit((unsigned char)line[i])) return false;
  return true;
}

// Number of tokens in a llama2.c tokenizer.bin, or -1 if the bytes are not one.
int64_t llama2c_token_count(std::string_view d) {
  if (d.size() < 4) return -1;
  int32_t max_len;
  std::memcpy(&max_len, d.data(), 4);
  if (max_len <= 0 || max_len > 65536) return -1;
  size_t pos = 4;
  int64_t n = 0;
  while (pos < d.size()) {
    if (d.size() - pos < 8) return -1;
    int32_t len;
    std::memcpy(&len, d.data() + pos + 4, 4);
    pos += 8;
    if (len < 0 || len > max_len || (size_t)len > d.size() - pos) return -1;
    pos += (size_t)len;
    n++;
  }
  return n;
}

}  // namespace

Status parse_spm_model_proto(std::string_view data, const std::string& name, Vocab* out) {
  const char* nm = name.c_str();
  Vocab v;
  v.model = "llama";
  bool has_trainer = false, byte_fallback = false;
  int64_t model_type = 1;  // UNIGRAM unless the trainer spec says otherwise
  PbReader r = pb(data);
  while (!r.done()) {
    const uint64_t key = r.varint();
    const uint32_t field = (uint32_t)(key >> 3), wire = (uint32_t)(key & 7);
    if (!r.ok) break;
    if (field == 1 && wire == 2) {  // SentencePiece
      PbReader p = pb(r.bytes());
      std::string piece;
      float score = 0;
      int32_t type = kTokenNormal;
      while (r.ok && !p.done()) {
        const uint64_t k = p.varint();
        const uint32_t f = (uint32_t)(k >> 3), w = (uint32_t)(k & 7);
        if (f == 1 && w == 2) {
          piece = std::string(p.bytes());
        } else if (f == 2 && w == 5) {
          const uint32_t bits = p.fixed32();
          std::memcpy(&score, &bits, 4);
        } else if (f == 3 && w == 0) {
          type = (int32_t)p.varint();
        } else {
          p.skip(w);
        }
      }
      if (!p.ok) return PD_ERROR(BadModelFile, "%s: piece %zu of the SentencePiece model is malformed", nm, v.pieces.size());
      if (type < 1 || type > 6) type = kTokenNormal;
      v.pieces.push_back(std::move(piece));
      v.scores.push_back(score);
      v.types.push_back(type);
    } else if (field == 2 && wire == 2) {  // TrainerSpec
      has_trainer = true;
      PbReader t = pb(r.bytes());
      while (r.ok && !t.done()) {
        const uint64_t k = t.varint();
        const uint32_t f = (uint32_t)(k >> 3), w = (uint32_t)(k & 7);
        if (w != 0) {
          t.skip(w);
          continue;
        }
        const int64_t val = (int64_t)t.varint();
        if (f == 3) model_type = val;
        else if (f == 35) byte_fallback = val != 0;
        else if (f == 40) v.unk_id = (int32_t)val;
        else if (f == 41) v.bos_id = (int32_t)val;
        else if (f == 42) v.eos_id = (int32_t)val;
      }
      if (!t.ok) return PD_ERROR(BadModelFile, "%s: the SentencePiece trainer spec is malformed", nm);
    } else if (field == 3 && wire == 2) {  // NormalizerSpec
      PbReader ns = pb(r.bytes());
      while (r.ok && !ns.done()) {
        const uint64_t k = ns.varint();
        const uint32_t f = (uint32_t)(k >> 3), w = (uint32_t)(k & 7);
        if (f == 3 && w == 0) v.add_space_prefix = ns.varint() != 0;
        else ns.skip(w);
      }
      if (!ns.ok) return PD_ERROR(BadModelFile, "%s: the SentencePiece normalizer spec is malformed", nm);
    } else {
      r.skip(wire);
    }
  }
  if (!r.ok) return PD_ERROR(BadModelFile, "%s: not a SentencePiece model (malformed protobuf)", nm);
  if (v.pieces.empty()) return PD_ERROR(BadModelFile, "%s: not a SentencePiece model (no pieces)", nm);
  if (has_trainer && model_type != 2) {
    return PD_ERROR(Unsupported, "%s: SentencePiece model type %lld is not supported (Paddock runs BPE models, type 2)", nm,
                    (long long)model_type);
  }
  (void)byte_fallback;  // byte pieces (type BYTE) are what the encoder falls back to
  if (v.bos_id < 0) v.bos_id = v.eos_id >= 0 ? v.eos_id : 0;
  if (v.eos_id < 0) v.eos_id = v.bos_id;
  if (v.unk_id < 0) v.unk_id = 0;
  PD_TRY(v.finalize(name));
  *out = std::move(v);
  return Status();
}

// ---- special-token choices from beside the tokenizer file ----

namespace {

// Resolves `ov` against a vocabulary (`find` maps a token text to its id, -1 when absent) into
// *bos / *eos / *add_bos. True when anything changed.
template <class Find>
bool resolve_overrides(const TokenizerOverrides& ov, Find&& find, int64_t n_vocab, int32_t* bos, int32_t* eos,
                       bool* add_bos) {
  const int32_t b0 = *bos, e0 = *eos;
  const bool a0 = *add_bos;
  auto pick = [&](int32_t id, const std::string& text, int32_t* dst) {
    if (id >= 0 && id < n_vocab) {
      *dst = id;
    } else if (!text.empty()) {
      const int32_t found = find(text);
      if (found >= 0) *dst = found;
    }
  };
  pick(ov.bos_id, ov.bos_text, bos);
  pick(ov.eos_id, ov.eos_text, eos);
  if (ov.add_bos >= 0) *add_bos = ov.add_bos != 0;
  return *bos != b0 || *eos != e0 || *add_bos != a0;
}

int32_t find_piece(const std::vector<std::string>& pieces, const std::string& text) {
  for (size_t i = 0; i < pieces.size(); i++)
    if (pieces[i] == text) return (int32_t)i;
  return -1;
}

// A finalized vocabulary whose ids may change: re-finalized so its tokenizer knows them.
Status apply_overrides(const TokenizerOverrides& ov, const std::string& name, Vocab* v) {
  auto find = [&](const std::string& t) { return find_piece(v->pieces, t); };
  if (resolve_overrides(ov, find, v->size(), &v->bos_id, &v->eos_id, &v->add_bos)) PD_TRY(v->finalize(name));
  return Status();
}

// A Vocab around a tokenizer that was built without one (tiktoken ranks): pieces are the
// tokenizer's display texts, so sizes, ids and token texts agree.
void vocab_around(std::shared_ptr<const Tokenizer> tok, const std::vector<BpeSpecialToken>& specials, Vocab* v) {
  v->model = "gpt2";
  v->pre = "llama-bpe";
  v->pieces.resize((size_t)tok->n_vocab());
  for (int32_t i = 0; i < tok->n_vocab(); i++) v->pieces[(size_t)i] = tok->token_text(i);
  v->scores.assign(v->pieces.size(), 0.0f);
  v->types.assign(v->pieces.size(), kTokenNormal);
  for (const BpeSpecialToken& s : specials)
    if (s.id >= 0 && s.id < tok->n_vocab()) v->types[(size_t)s.id] = kTokenControl;
  v->bos_id = tok->bos_id();
  v->eos_id = tok->eos_id();
  v->eot_id = tok->eot_id();
  v->unk_id = 0;
  v->add_space_prefix = false;
  for (int i = 0; i < 256; i++) v->byte_to_id[i] = -1;
  v->tokenizer = std::move(tok);
}

}  // namespace

Status vocab_from_hf_tokenizer_json(std::string_view data, const std::string& name, const TokenizerOverrides& ov,
                                    Vocab* out) {
  const char* nm = name.c_str();
  Json root;
  size_t error_pos = 0;
  if (!parse_json(data, &root, &error_pos) || root.kind != Json::Obj) {
    return PD_ERROR(BadModelFile, "%s: not valid JSON (near byte %zu)", nm, error_pos);
  }
  const Json* model = root.get("model");
  if (!model || model->kind != Json::Obj) return PD_ERROR(BadModelFile, "%s: expected a \"model\" object, found none", nm);
  const std::string type = model->str("type", "BPE");
  if (type != "BPE") return PD_ERROR(Unsupported, "%s: tokenizer model type '%s' is not supported (Paddock runs BPE)", nm, type.c_str());
  const Json* vocab = model->get("vocab");
  const Json* merges = model->get("merges");
  if (!vocab || vocab->kind != Json::Obj) return PD_ERROR(BadModelFile, "%s: expected model.vocab (an object)", nm);
  if (!merges || merges->kind != Json::Arr) return PD_ERROR(BadModelFile, "%s: expected model.merges (an array)", nm);

  std::vector<std::string> tokens;
  auto put = [&](const std::string& s, double id) -> Status {
    if (id < 0 || id > 1 << 24 || id != (double)(int64_t)id) return PD_ERROR(BadModelFile, "%s: token '%s' has id %g", nm, s.c_str(), id);
    if ((size_t)id >= tokens.size()) tokens.resize((size_t)id + 1);
    tokens[(size_t)id] = s;
    return Status();
  };
  for (const auto& kv : vocab->o) {
    if (kv.second.kind != Json::Num) return PD_ERROR(BadModelFile, "%s: model.vocab['%s'] is not a number", nm, kv.first.c_str());
    PD_TRY(put(kv.first, kv.second.n));
  }
  std::vector<std::pair<int32_t, std::string>> added;
  if (const Json* at = root.get("added_tokens"); at && at->kind == Json::Arr) {
    for (const Json& t : at->a) {
      const Json* id = t.get("id");
      const std::string content = t.str("content");
      if (!id || id->kind != Json::Num || content.empty()) return PD_ERROR(BadModelFile, "%s: an added token lacks id or content", nm);
      PD_TRY(put(content, id->n));
      added.push_back({(int32_t)id->n, content});
    }
  }
  if (tokens.empty()) return PD_ERROR(BadModelFile, "%s: the vocabulary is empty", nm);
  std::vector<std::string> merge_list;
  merge_list.reserve(merges->a.size());
  for (const Json& m : merges->a) {
    if (m.kind == Json::Str) {
      merge_list.push_back(m.s);
    } else if (m.kind == Json::Arr && m.a.size() == 2 && m.a[0].kind == Json::Str && m.a[1].kind == Json::Str) {
      merge_list.push_back(m.a[0].s + " " + m.a[1].s);
    } else {
      return PD_ERROR(BadModelFile, "%s: merge %zu is neither \"a b\" nor [\"a\", \"b\"]", nm, merge_list.size());
    }
  }
  Vocab v;
  v.pieces = std::move(tokens);
  const std::vector<std::string>& pieces = v.pieces;
  // One lookup table for the few names and every merge below (views into v.pieces, which no
  // longer changes; the first id of a duplicated text wins, as in a linear search).
  std::unordered_map<std::string_view, int32_t> id_of;
  id_of.reserve(pieces.size());
  for (size_t i = 0; i < pieces.size(); i++) id_of.emplace(pieces[i], (int32_t)i);
  auto find_text = [&](std::string_view t) -> int32_t {
    auto it = id_of.find(t);
    return it == id_of.end() ? -1 : it->second;
  };
  auto find = [&](std::initializer_list<const char*> names) -> int32_t {
    for (const char* n : names)
      if (find_text(n) >= 0) return find_text(n);
    return -1;
  };
  v.types.assign(pieces.size(), kTokenNormal);
  const bool byte_fallback = model->boolean("byte_fallback", false);
  if (byte_fallback || find({"<0x00>"}) >= 0) {
    // Llama 2 style: "▁" for space, <0xNN> byte pieces, merges from SentencePiece scores.
    v.model = "llama";
    v.scores.assign(pieces.size(), -1e9f);
    std::string joined;
    for (size_t r = 0; r < merge_list.size(); r++) {
      const std::string& m = merge_list[r];
      const size_t sp = m.find(' ');
      if (sp == std::string::npos) continue;
      joined.assign(m, 0, sp);
      joined.append(m, sp + 1, std::string::npos);
      const int32_t id = find_text(joined);
      if (id >= 0 && v.scores[(size_t)id] == -1e9f) v.scores[(size_t)id] = -(float)r;
    }
    for (size_t i = 0; i < pieces.size(); i++) {
      const std::string& p = pieces[i];
      if (p.size() == 6 && p.compare(0, 3, "<0x") == 0 && p[5] == '>') v.types[i] = kTokenByte;
      if (pieces[i].empty()) v.types[i] = kTokenUnused;
    }
    for (const auto& a : added) v.types[(size_t)a.first] = kTokenControl;
    const std::string unk = model->str("unk_token", "<unk>");
    v.unk_id = std::max(0, find({unk.c_str()}));
    if (v.unk_id < (int32_t)pieces.size() && pieces[(size_t)v.unk_id] == unk) v.types[(size_t)v.unk_id] = kTokenUnknown;
    v.bos_id = find({"<s>", "<|begin_of_text|>"});
    v.eos_id = find({"</s>", "<|end_of_text|>"});
    if (v.bos_id < 0) v.bos_id = 1;
    if (v.eos_id < 0) v.eos_id = 2;
    // The dummy prefix: a Prepend("▁") normalizer or a Metaspace pre-tokenizer that adds one.
    v.add_space_prefix = data.find("\"Prepend\"") != std::string_view::npos ||
                         (data.find("\"Metaspace\"") != std::string_view::npos &&
                          data.find("\"prepend_scheme\":\"never\"") == std::string_view::npos &&
                          data.find("\"prepend_scheme\": \"never\"") == std::string_view::npos);
    resolve_overrides(ov, find_text, v.size(), &v.bos_id, &v.eos_id, &v.add_bos);
    PD_TRY(v.finalize(name));
    *out = std::move(v);
    return Status();
  }
  // Byte-level BPE (Llama 3): added pieces are its special pieces.
  v.model = "gpt2";
  v.pre = "llama-bpe";
  v.merges = std::move(merge_list);
  v.scores.assign(pieces.size(), 0.0f);
  for (const auto& a : added) v.types[(size_t)a.first] = kTokenControl;
  for (size_t i = 0; i < pieces.size(); i++)
    if (pieces[i].empty()) v.types[i] = kTokenUnused;
  v.bos_id = std::max(0, find({"<|begin_of_text|>", "<s>"}));
  v.eos_id = std::max(0, find({"<|end_of_text|>", "</s>"}));
  v.unk_id = 0;
  v.add_space_prefix = false;
  resolve_overrides(ov, find_text, v.size(), &v.bos_id, &v.eos_id, &v.add_bos);
  PD_TRY(v.finalize(name));
  if (!model->boolean("ignore_merges", true)) {
    // Vocab::finalize builds with whole-piece lookup on (tiktoken, Llama 3); this file says off.
    std::vector<BpeSpecialToken> specials;
    for (const auto& a : added) specials.push_back({a.first, a.second});
    BpeOptions opts;
    opts.whole_piece_lookup = false;
    auto bpe = std::make_shared<BpeTokenizer>();
    PD_TRY(from_bpe_status(bpe->init_from_merges(pieces, v.merges, specials, opts), name));
    v.tokenizer = make_bpe_tokenizer(std::move(bpe), v.bos_id, v.eos_id, v.eot_id, pieces);
  }
  *out = std::move(v);
  return Status();
}

Status parse_hf_tokenizer_json(std::string_view data, const std::string& name, std::shared_ptr<const Tokenizer>* out) {
  Vocab v;
  PD_TRY(vocab_from_hf_tokenizer_json(data, name, TokenizerOverrides(), &v));
  *out = v.tokenizer;
  return Status();
}

std::string find_tokenizer_in_folder(const std::string& dir) {
  for (const char* name : {"tokenizer.json", "tokenizer.model"}) {
    const std::string f = dir + "/" + name;
    std::error_code ec;
    if (std::filesystem::is_regular_file(std::filesystem::u8path(f), ec)) return f;
  }
  return std::string();
}

Status load_tokenizer_vocab(const std::string& path, const TokenizerOverrides& ov, Vocab* out) {
  const char* p = path.c_str();
  struct stat st;
  if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {  // an HF model folder
    const std::string f = find_tokenizer_in_folder(path);
    if (f.empty()) return PD_ERROR(BadModelFile, "%s: a folder without tokenizer.json or tokenizer.model", p);
    return load_tokenizer_vocab(f, ov, out);
  }
  std::shared_ptr<MappedFile> file;
  PD_TRY(MappedFile::open(path, &file));
  std::string_view d((const char*)file->data(), file->size());
  Vocab v;
  if (d.size() >= 4 && d.compare(0, 4, "GGUF") == 0) {
    GgufFile g;
    PD_TRY(gguf_parse(file->data(), file->size(), path, &g));
    PD_TRY(read_gguf_vocab(g, &v));
    PD_TRY(apply_overrides(ov, path, &v));
    *out = std::move(v);
    return Status();
  }
  size_t first = 0;
  while (first < d.size() && std::isspace((unsigned char)d[first])) first++;
  if (first < d.size() && d[first] == '{') return vocab_from_hf_tokenizer_json(d, path, ov, out);
  if (looks_tiktoken(d)) {
    std::vector<std::string> ranked;
    PD_TRY(from_bpe_status(bpe_parse_tiktoken(d, path, &ranked), path));
    auto bpe = std::make_shared<BpeTokenizer>();
    const std::vector<BpeSpecialToken> specials = bpe_llama3_special_tokens((int32_t)ranked.size());
    PD_TRY(from_bpe_status(bpe->init_from_ranks(ranked, specials), path));
    int32_t bos = bpe->find_special("<|begin_of_text|>"), eos = bpe->find_special("<|end_of_text|>");
    bool add_bos = true;
    auto find = [&](const std::string& t) { return bpe->find_special(t); };
    resolve_overrides(ov, find, (int64_t)ranked.size() + (int64_t)specials.size(), &bos, &eos, &add_bos);
    vocab_around(make_bpe_tokenizer(std::move(bpe), bos, eos, -1), specials, &v);
    v.add_bos = add_bos;
    *out = std::move(v);
    return Status();
  }
  const int64_t n_llama2c = llama2c_token_count(d);
  if (!d.empty() && d[0] == 0x0A) {
    Status s = parse_spm_model_proto(d, path, &v);
    if (s.ok()) {
      PD_TRY(apply_overrides(ov, path, &v));
      *out = std::move(v);
      return s;
    }
    if (n_llama2c <= 0) return s;
  }
  if (n_llama2c > 0) {
    PD_TRY(read_llama2c_tokenizer(path, n_llama2c, &v));
    PD_TRY(apply_overrides(ov, path, &v));
    *out = std::move(v);
    return Status();
  }
  return PD_ERROR(BadModelFile, "%s: not a tokenizer file Paddock knows (GGUF, SentencePiece or tiktoken tokenizer.model, "
                  "tokenizer.json, llama2.c tokenizer.bin)", p);
}

Status load_tokenizer_file(const std::string& path, std::shared_ptr<const Tokenizer>* out) {
  Vocab v;
  PD_TRY(load_tokenizer_vocab(path, TokenizerOverrides(), &v));
  *out = v.tokenizer;
  return Status();
}

}  // namespace paddock
