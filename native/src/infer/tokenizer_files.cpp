#include "infer/tokenizer_files.h"

#include <cctype>
#include <cerrno>
#include <cstring>
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

// ---- a small JSON reader (enough for tokenizer.json) ----

struct Json {
  enum Kind { Null, Bool, Num, Str, Arr, Obj } kind = Null;
  bool b = false;
  double n = 0;
  std::string s;
  std::vector<Json> a;
  std::vector<std::pair<std::string, Json>> o;

  const Json* get(const char* key) const {
    if (kind != Obj) return nullptr;
    for (const auto& kv : o)
      if (kv.first == key) return &kv.second;
    return nullptr;
  }
  std::string str(const char* key, const std::string& def = "") const {
    const Json* j = get(key);
    return j && j->kind == Str ? j->s : def;
  }
};

class JsonParser {
 public:
  explicit JsonParser(std::string_view t) : t_(t) {}
  bool parse(Json* out) {
    if (!value(out, 0)) return false;
    ws();
    return i_ == t_.size();
  }
  size_t pos() const { return i_; }

 private:
  void ws() {
    while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\n' || t_[i_] == '\r' || t_[i_] == '\t')) i_++;
  }
  static void put_utf8(uint32_t c, std::string* s) {
    if (c < 0x80) {
      *s += (char)c;
    } else if (c < 0x800) {
      *s += (char)(0xC0 | (c >> 6));
      *s += (char)(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      *s += (char)(0xE0 | (c >> 12));
      *s += (char)(0x80 | ((c >> 6) & 0x3F));
      *s += (char)(0x80 | (c & 0x3F));
    } else {
      *s += (char)(0xF0 | (c >> 18));
      *s += (char)(0x80 | ((c >> 12) & 0x3F));
      *s += (char)(0x80 | ((c >> 6) & 0x3F));
      *s += (char)(0x80 | (c & 0x3F));
    }
  }
  bool hex4(uint32_t* v) {
    if (t_.size() - i_ < 4) return false;
    *v = 0;
    for (int k = 0; k < 4; k++) {
      const char c = t_[i_++];
      *v <<= 4;
      if (c >= '0' && c <= '9') *v |= (uint32_t)(c - '0');
      else if (c >= 'a' && c <= 'f') *v |= (uint32_t)(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') *v |= (uint32_t)(c - 'A' + 10);
      else return false;
    }
    return true;
  }
  bool string(std::string* s) {
    if (i_ >= t_.size() || t_[i_] != '"') return false;
    i_++;
    while (i_ < t_.size()) {
      const char c = t_[i_++];
      if (c == '"') return true;
      if (c != '\\') {
        *s += c;
        continue;
      }
      if (i_ >= t_.size()) return false;
      const char e = t_[i_++];
      switch (e) {
        case '"': *s += '"'; break;
        case '\\': *s += '\\'; break;
        case '/': *s += '/'; break;
        case 'b': *s += '\b'; break;
        case 'f': *s += '\f'; break;
        case 'n': *s += '\n'; break;
        case 'r': *s += '\r'; break;
        case 't': *s += '\t'; break;
        case 'u': {
          uint32_t c1;
          if (!hex4(&c1)) return false;
          if (c1 >= 0xD800 && c1 < 0xDC00 && t_.size() - i_ >= 6 && t_[i_] == '\\' && t_[i_ + 1] == 'u') {
            const size_t save = i_;
            i_ += 2;
            uint32_t c2;
            if (hex4(&c2) && c2 >= 0xDC00 && c2 < 0xE000) {
              c1 = 0x10000 + ((c1 - 0xD800) << 10) + (c2 - 0xDC00);
            } else {
              i_ = save;
            }
          }
          put_utf8(c1, s);
          break;
        }
        default: return false;
      }
    }
    return false;
  }
  bool value(Json* v, int depth) {
    if (depth > 64) return false;
    ws();
    if (i_ >= t_.size()) return false;
    const char c = t_[i_];
    if (c == '{') {
      v->kind = Json::Obj;
      i_++;
      ws();
      if (i_ < t_.size() && t_[i_] == '}') return ++i_, true;
      for (;;) {
        ws();
        std::pair<std::string, Json> kv;
        if (!string(&kv.first)) return false;
        ws();
        if (i_ >= t_.size() || t_[i_++] != ':') return false;
        if (!value(&kv.second, depth + 1)) return false;
        v->o.push_back(std::move(kv));
        ws();
        if (i_ >= t_.size()) return false;
        if (t_[i_] == ',') { i_++; continue; }
        if (t_[i_] == '}') return ++i_, true;
        return false;
      }
    }
    if (c == '[') {
      v->kind = Json::Arr;
      i_++;
      ws();
      if (i_ < t_.size() && t_[i_] == ']') return ++i_, true;
      for (;;) {
        v->a.emplace_back();
        if (!value(&v->a.back(), depth + 1)) return false;
        ws();
        if (i_ >= t_.size()) return false;
        if (t_[i_] == ',') { i_++; continue; }
        if (t_[i_] == ']') return ++i_, true;
        return false;
      }
    }
    if (c == '"') {
      v->kind = Json::Str;
      return string(&v->s);
    }
    auto word = [&](const char* w) {
      const size_t n = std::strlen(w);
      if (t_.substr(i_, n) != w) return false;
      i_ += n;
      return true;
    };
    if (word("true")) { v->kind = Json::Bool; v->b = true; return true; }
    if (word("false")) { v->kind = Json::Bool; return true; }
    if (word("null")) return true;
    const size_t start = i_;
    while (i_ < t_.size() && std::strchr("+-0123456789.eE", t_[i_])) i_++;
    if (i_ == start) return false;
    v->kind = Json::Num;
    v->n = std::strtod(std::string(t_.substr(start, i_ - start)).c_str(), nullptr);
    return true;
  }

  std::string_view t_;
  size_t i_ = 0;
};

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

Status parse_hf_tokenizer_json(std::string_view data, const std::string& name, std::shared_ptr<const Tokenizer>* out) {
  const char* nm = name.c_str();
  Json root;
  JsonParser parser(data);
  if (!parser.parse(&root) || root.kind != Json::Obj) {
    return PD_ERROR(BadModelFile, "%s: not valid JSON (near byte %zu)", nm, parser.pos());
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
  auto find = [&](std::initializer_list<const char*> names) -> int32_t {
    for (const char* n : names)
      for (size_t i = 0; i < tokens.size(); i++)
        if (tokens[i] == n) return (int32_t)i;
    return -1;
  };
  const Json* bf = model->get("byte_fallback");
  const bool byte_fallback = bf && bf->kind == Json::Bool && bf->b;
  if (byte_fallback || find({"<0x00>"}) >= 0) {
    // Llama 2 style: "▁" for space, <0xNN> byte tokens, merges from SentencePiece scores.
    Vocab v;
    v.model = "llama";
    v.pieces = tokens;
    v.scores.assign(tokens.size(), -1e9f);
    v.types.assign(tokens.size(), kTokenNormal);
    std::unordered_map<std::string, int32_t> id_of;
    for (size_t i = 0; i < tokens.size(); i++) id_of.emplace(tokens[i], (int32_t)i);
    for (size_t r = 0; r < merge_list.size(); r++) {
      const std::string& m = merge_list[r];
      const size_t sp = m.find(' ');
      if (sp == std::string::npos) continue;
      auto it = id_of.find(m.substr(0, sp) + m.substr(sp + 1));
      if (it != id_of.end() && v.scores[(size_t)it->second] == -1e9f) v.scores[(size_t)it->second] = -(float)r;
    }
    for (size_t i = 0; i < tokens.size(); i++) {
      const std::string& p = tokens[i];
      if (p.size() == 6 && p.compare(0, 3, "<0x") == 0 && p[5] == '>') v.types[i] = kTokenByte;
      if (tokens[i].empty()) v.types[i] = kTokenUnused;
    }
    for (const auto& a : added) v.types[(size_t)a.first] = kTokenControl;
    const std::string unk = model->str("unk_token", "<unk>");
    v.unk_id = std::max(0, find({unk.c_str()}));
    if (v.unk_id < (int32_t)tokens.size() && tokens[(size_t)v.unk_id] == unk) v.types[(size_t)v.unk_id] = kTokenUnknown;
    v.bos_id = find({"<s>", "<|begin_of_text|>"});
    v.eos_id = find({"</s>", "<|end_of_text|>"});
    if (v.bos_id < 0) v.bos_id = 1;
    if (v.eos_id < 0) v.eos_id = 2;
    // The dummy prefix: a Prepend("▁") normalizer or a Metaspace pre-tokenizer that adds one.
    v.add_space_prefix = data.find("\"Prepend\"") != std::string_view::npos ||
                         (data.find("\"Metaspace\"") != std::string_view::npos &&
                          data.find("\"prepend_scheme\":\"never\"") == std::string_view::npos &&
                          data.find("\"prepend_scheme\": \"never\"") == std::string_view::npos);
    PD_TRY(v.finalize(name));
    *out = v.tokenizer;
    return Status();
  }
  // Byte-level BPE (Llama 3).
  std::vector<BpeSpecialToken> specials;
  for (const auto& a : added) specials.push_back({a.first, a.second});
  BpeOptions opts;
  const Json* im = model->get("ignore_merges");
  opts.whole_piece_lookup = !im || im->kind != Json::Bool || im->b;
  auto bpe = std::make_shared<BpeTokenizer>();
  PD_TRY(from_bpe_status(bpe->init_from_merges(tokens, merge_list, specials, opts), name));
  const int32_t bos = find({"<|begin_of_text|>", "<s>"}), eos = find({"<|end_of_text|>", "</s>"});
  *out = make_bpe_tokenizer(std::move(bpe), bos, eos, -1, tokens);
  return Status();
}

Status load_tokenizer_file(const std::string& path, std::shared_ptr<const Tokenizer>* out) {
  const char* p = path.c_str();
  struct stat st;
  if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {  // an HF model folder
    for (const char* name : {"tokenizer.json", "tokenizer.model"}) {
      const std::string f = path + "/" + name;
      struct stat fs;
      if (stat(f.c_str(), &fs) == 0) return load_tokenizer_file(f, out);
    }
    return PD_ERROR(BadModelFile, "%s: a folder without tokenizer.json or tokenizer.model", p);
  }
  std::shared_ptr<MappedFile> file;
  PD_TRY(MappedFile::open(path, &file));
  std::string_view d((const char*)file->data(), file->size());
  if (d.size() >= 4 && d.compare(0, 4, "GGUF") == 0) {
    GgufFile g;
    PD_TRY(gguf_parse(file->data(), file->size(), path, &g));
    Vocab v;
    PD_TRY(read_gguf_vocab(g, &v));
    *out = v.tokenizer;
    return Status();
  }
  size_t first = 0;
  while (first < d.size() && std::isspace((unsigned char)d[first])) first++;
  if (first < d.size() && d[first] == '{') return parse_hf_tokenizer_json(d, path, out);
  if (looks_tiktoken(d)) {
    std::vector<std::string> ranked;
    PD_TRY(from_bpe_status(bpe_parse_tiktoken(d, path, &ranked), path));
    auto bpe = std::make_shared<BpeTokenizer>();
    PD_TRY(from_bpe_status(bpe->init_from_ranks(ranked, bpe_llama3_special_tokens((int32_t)ranked.size())), path));
    const int32_t bos = bpe->find_special("<|begin_of_text|>"), eos = bpe->find_special("<|end_of_text|>");
    *out = make_bpe_tokenizer(std::move(bpe), bos, eos, -1);
    return Status();
  }
  const int64_t n_llama2c = llama2c_token_count(d);
  if (!d.empty() && d[0] == 0x0A) {
    Vocab v;
    Status st = parse_spm_model_proto(d, path, &v);
    if (st.ok()) {
      *out = v.tokenizer;
      return st;
    }
    if (n_llama2c <= 0) return st;
  }
  if (n_llama2c > 0) {
    Vocab v;
    PD_TRY(read_llama2c_tokenizer(path, n_llama2c, &v));
    *out = v.tokenizer;
    return Status();
  }
  return PD_ERROR(BadModelFile, "%s: not a tokenizer file Paddock knows (GGUF, SentencePiece or tiktoken tokenizer.model, "
                  "tokenizer.json, llama2.c tokenizer.bin)", p);
}

}  // namespace paddock
