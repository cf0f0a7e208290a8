#include "io/json_reader.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace paddock {

const Json* Json::get(const char* key) const {
  if (kind != Obj) return nullptr;
  for (auto it = o.rbegin(); it != o.rend(); ++it)  // a repeated key: the last wins, as in Python's json
    if (it->first == key) return &it->second;
  return nullptr;
}

std::string Json::str(const char* key, const std::string& def) const {
  const Json* j = get(key);
  return j && j->kind == Str ? j->s : def;
}

double Json::num(const char* key, double def) const {
  const Json* j = get(key);
  return j && j->kind == Num ? j->n : def;
}

bool Json::boolean(const char* key, bool def) const {
  const Json* j = get(key);
  return j && j->kind == Bool ? j->b : def;
}

bool Json::is_count() const { return kind == Num && n >= 0 && n <= 9007199254740992.0 && n == std::floor(n); }

namespace {

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
      // Plain runs are appended whole (tokenizer.json is mostly short unescaped strings).
      size_t run = i_;
      while (run < t_.size() && t_[run] != '"' && t_[run] != '\\') run++;
      s->append(t_.data() + i_, run - i_);
      i_ = run;
      if (i_ >= t_.size()) return false;
      const char c = t_[i_++];
      if (c == '"') return true;
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
    // JSON numbers start with a digit or '-' and a digit (from_chars would also take "inf", "nan").
    const size_t digit_at = c == '-' ? i_ + 1 : i_;
    if (digit_at >= t_.size() || t_[digit_at] < '0' || t_[digit_at] > '9') return false;
    const std::from_chars_result r = std::from_chars(t_.data() + i_, t_.data() + t_.size(), v->n);
    if (r.ec != std::errc()) return false;
    i_ = (size_t)(r.ptr - t_.data());
    v->kind = Json::Num;
    return true;
  }

  std::string_view t_;
  size_t i_ = 0;
};

}  // namespace

bool parse_json(std::string_view text, Json* out, size_t* error_pos) {
  JsonParser p(text);
  *out = Json();
  const bool ok = p.parse(out);
  if (error_pos) *error_pos = p.pos();
  return ok;
}

}  // namespace paddock
