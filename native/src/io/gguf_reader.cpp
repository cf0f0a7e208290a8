#include <algorithm>
#include <cstring>
#include <limits>

#include "io/gguf.h"

namespace paddock {

const char* gguf_type_name(GgufType t) {
  static const char* names[] = {"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
                                "bool", "string", "array", "uint64", "int64", "float64"};
  return (uint32_t)t < 13 ? names[(uint32_t)t] : "unknown";
}

static size_t scalar_size(GgufType t) {
  switch (t) {
    case GgufType::UINT8: case GgufType::INT8: case GgufType::BOOL: return 1;
    case GgufType::UINT16: case GgufType::INT16: return 2;
    case GgufType::UINT32: case GgufType::INT32: case GgufType::FLOAT32: return 4;
    case GgufType::UINT64: case GgufType::INT64: case GgufType::FLOAT64: return 8;
    default: return 0;  // string, array
  }
}

namespace {

constexpr uint64_t kMaxArrayStrings = 1u << 22;
constexpr uint64_t kMaxEntries = 1u << 20;  // key/values or tensors

// Bounds-checked little-endian reader over the file bytes.
struct Cursor {
  const uint8_t* data;
  size_t size;
  size_t pos;
  const std::string& path;

  size_t remaining() const { return size - pos; }

  Status need(size_t n, const char* what) const {
    if (n > remaining()) {
      return PD_ERROR(BadModelFile, "%s: truncated GGUF: expected %zu bytes for %s at offset %zu, but the file ends at %zu",
                      path.c_str(), n, what, pos, size);
    }
    return Status();
  }
  template <class T>
  Status read(T* v, const char* what) {
    PD_TRY(need(sizeof(T), what));
    std::memcpy(v, data + pos, sizeof(T));
    pos += sizeof(T);
    return Status();
  }
  Status read_string(std::string* s, uint64_t max_len, const char* what) {
    uint64_t len;
    PD_TRY(read(&len, what));
    if (len > max_len || len > remaining()) {
      return PD_ERROR(BadModelFile, "%s: %s at offset %zu claims %llu bytes (at most %llu possible there)",
                      path.c_str(), what, pos - 8, (unsigned long long)len,
                      (unsigned long long)std::min<uint64_t>(max_len, remaining()));
    }
    s->assign((const char*)data + pos, (size_t)len);
    pos += (size_t)len;
    return Status();
  }
};

Status read_scalar(Cursor& c, GgufType t, GgufKV* kv) {
  switch (t) {
    case GgufType::UINT8: { uint8_t v; PD_TRY(c.read(&v, "a value")); kv->u = v; kv->i = v; break; }
    case GgufType::INT8: { int8_t v; PD_TRY(c.read(&v, "a value")); kv->i = v; kv->u = (uint64_t)v; break; }
    case GgufType::UINT16: { uint16_t v; PD_TRY(c.read(&v, "a value")); kv->u = v; kv->i = v; break; }
    case GgufType::INT16: { int16_t v; PD_TRY(c.read(&v, "a value")); kv->i = v; kv->u = (uint64_t)v; break; }
    case GgufType::UINT32: { uint32_t v; PD_TRY(c.read(&v, "a value")); kv->u = v; kv->i = v; break; }
    case GgufType::INT32: { int32_t v; PD_TRY(c.read(&v, "a value")); kv->i = v; kv->u = (uint64_t)v; break; }
    case GgufType::UINT64: { uint64_t v; PD_TRY(c.read(&v, "a value")); kv->u = v; kv->i = (int64_t)v; break; }
    case GgufType::INT64: { int64_t v; PD_TRY(c.read(&v, "a value")); kv->i = v; kv->u = (uint64_t)v; break; }
    case GgufType::FLOAT32: { float v; PD_TRY(c.read(&v, "a value")); kv->f = v; break; }
    case GgufType::FLOAT64: { double v; PD_TRY(c.read(&v, "a value")); kv->f = v; break; }
    case GgufType::BOOL: { uint8_t v; PD_TRY(c.read(&v, "a value")); kv->u = v != 0; kv->i = v != 0; break; }
    case GgufType::STRING: PD_TRY(c.read_string(&kv->str, std::numeric_limits<uint64_t>::max(), "a string value")); break;
    default: break;
  }
  return Status();
}

Status read_kv(Cursor& c, GgufKV* kv) {
  PD_TRY(c.read_string(&kv->key, 65535, "a metadata key"));
  uint32_t type;
  PD_TRY(c.read(&type, "a value type"));
  if (type > (uint32_t)GgufType::FLOAT64) {
    return PD_ERROR(BadModelFile, "%s: key '%s' has value type %u; expected a GGUF type 0..12", c.path.c_str(),
                    kv->key.c_str(), type);
  }
  kv->type = (GgufType)type;
  if (kv->type != GgufType::ARRAY) return read_scalar(c, kv->type, kv);

  uint32_t et;
  PD_TRY(c.read(&et, "an array element type"));
  PD_TRY(c.read(&kv->arr_n, "an array length"));
  if (et > (uint32_t)GgufType::FLOAT64) {
    return PD_ERROR(BadModelFile, "%s: array '%s' has element type %u; expected a GGUF type 0..12", c.path.c_str(),
                    kv->key.c_str(), et);
  }
  kv->arr_type = (GgufType)et;
  if (kv->arr_type == GgufType::ARRAY) {
    return PD_ERROR(Unsupported, "%s: key '%s' is an array of arrays, which Paddock does not read", c.path.c_str(),
                    kv->key.c_str());
  }
  if (kv->arr_type == GgufType::STRING) {
    // Each string takes at least 8 bytes of file; the cap bounds memory for a huge file whose
    // count was corrupted (vocabularies and merge lists are far smaller).
    if (kv->arr_n > c.remaining() / 8 || kv->arr_n > kMaxArrayStrings) {
      return PD_ERROR(BadModelFile, "%s: array '%s' claims %llu strings; at most %llu are possible there",
                      c.path.c_str(), kv->key.c_str(), (unsigned long long)kv->arr_n,
                      (unsigned long long)std::min<uint64_t>(c.remaining() / 8, kMaxArrayStrings));
    }
    kv->arr_str.reserve((size_t)std::min<uint64_t>(kv->arr_n, 1u << 16));
    for (uint64_t i = 0; i < kv->arr_n; i++) {
      kv->arr_str.emplace_back();
      PD_TRY(c.read_string(&kv->arr_str.back(), std::numeric_limits<uint64_t>::max(), "an array string"));
    }
    return Status();
  }
  const size_t es = scalar_size(kv->arr_type);
  if (kv->arr_n > c.remaining() / es) {
    return PD_ERROR(BadModelFile, "%s: array '%s' claims %llu elements of %zu bytes, but only %zu bytes follow",
                    c.path.c_str(), kv->key.c_str(), (unsigned long long)kv->arr_n, es, c.remaining());
  }
  kv->arr_raw = c.data + c.pos;
  c.pos += (size_t)kv->arr_n * es;
  return Status();
}

Status read_tensor_info(Cursor& c, GgufTensorInfo* t) {
  PD_TRY(c.read_string(&t->name, 256, "a tensor name"));
  PD_TRY(c.read(&t->n_dims, "tensor dimensions"));
  if (t->n_dims < 1 || t->n_dims > 4) {
    return PD_ERROR(BadModelFile, "%s: tensor '%s' has %u dimensions; expected 1 to 4", c.path.c_str(),
                    t->name.c_str(), t->n_dims);
  }
  uint64_t nelem = 1;
  for (uint32_t d = 0; d < t->n_dims; d++) {
    uint64_t ne;
    PD_TRY(c.read(&ne, "a tensor dimension"));
    // No tensor can have more elements than 8x the file's bytes (the densest type is ~1.5 bits).
    if (ne == 0 || ne > ((uint64_t)c.size * 8 + 256) / nelem) {
      return PD_ERROR(BadModelFile, "%s: tensor '%s' dimension %u is %llu, impossible for a file of %zu bytes",
                      c.path.c_str(), t->name.c_str(), d, (unsigned long long)ne, c.size);
    }
    t->ne[d] = (int64_t)ne;
    nelem *= ne;
  }
  uint32_t type;
  PD_TRY(c.read(&type, "a tensor type"));
  const DTypeInfo* info = dtype_info(type);
  if (!info) {
    return PD_ERROR(Unsupported, "%s: tensor '%s' has type id %u, which Paddock does not know", c.path.c_str(),
                    t->name.c_str(), type);
  }
  t->type = (DType)type;
  if (t->ne[0] % info->block_size != 0) {
    return PD_ERROR(BadModelFile, "%s: tensor '%s' of type %s has rows of %lld elements; expected a multiple of %lld",
                    c.path.c_str(), t->name.c_str(), info->name, (long long)t->ne[0], (long long)info->block_size);
  }
  t->nbytes = (size_t)(nelem / (uint64_t)info->block_size) * info->type_size;
  PD_TRY(c.read(&t->offset, "a tensor offset"));
  return Status();
}

}  // namespace

Status gguf_parse(const uint8_t* data, size_t size, const std::string& path, GgufFile* out) {
  GgufFile& g = *out;
  g = GgufFile();
  g.path = path;
  g.base = data;
  g.size = size;
  const char* p = path.c_str();
  if (size < 24) {
    return PD_ERROR(BadModelFile, "%s: expected a GGUF header of at least 24 bytes, found a file of %zu bytes", p, size);
  }
  Cursor c{data, size, 0, path};
  uint32_t magic;
  PD_TRY(c.read(&magic, "the magic"));
  if (magic != kGgufMagic) {
    return PD_ERROR(BadModelFile, "%s: not a GGUF file: expected magic 'GGUF', found bytes %02x %02x %02x %02x", p,
                    data[0], data[1], data[2], data[3]);
  }
  PD_TRY(c.read(&g.version, "the version"));
  if (g.version == 1) return PD_ERROR(Unsupported, "%s: GGUF version 1 is obsolete; Paddock reads versions 2 and 3", p);
  const uint32_t swapped = (g.version >> 24) | ((g.version >> 8) & 0xff00u) | ((g.version << 8) & 0xff0000u) | (g.version << 24);
  if (swapped == 2 || swapped == 3) {
    return PD_ERROR(Unsupported, "%s: big-endian GGUF (version %u) is not supported; Paddock reads little-endian files", p, swapped);
  }
  if (g.version != 2 && g.version != 3) {
    return PD_ERROR(BadModelFile, "%s: expected GGUF version 2 or 3, found %u", p, g.version);
  }
  uint64_t n_tensors, n_kv;
  PD_TRY(c.read(&n_tensors, "the tensor count"));
  PD_TRY(c.read(&n_kv, "the key/value count"));
  // Each key/value takes at least 13 bytes, each tensor entry at least 32: counts beyond what the
  // file can hold are rejected before anything is allocated for them.
  if (n_kv > c.remaining() / 13 || n_kv > kMaxEntries) {
    return PD_ERROR(BadModelFile, "%s: header claims %llu key/values, but only %zu bytes follow", p,
                    (unsigned long long)n_kv, c.remaining());
  }
  if (n_tensors > c.remaining() / 32 || n_tensors > kMaxEntries) {
    return PD_ERROR(BadModelFile, "%s: header claims %llu tensors, but only %zu bytes follow", p,
                    (unsigned long long)n_tensors, c.remaining());
  }

  g.kvs.reserve((size_t)std::min<uint64_t>(n_kv, 4096));
  for (size_t i = 0; i < (size_t)n_kv; i++) {
    g.kvs.emplace_back();
    PD_TRY(read_kv(c, &g.kvs[i]));
    if (!g.kv_index.emplace(g.kvs[i].key, i).second) {
      return PD_ERROR(BadModelFile, "%s: key '%s' appears twice", p, g.kvs[i].key.c_str());
    }
  }
  bool found = false;
  uint64_t align = kGgufDefaultAlignment;
  PD_TRY(g.get_u64("general.alignment", &align, &found));
  if (found && (align == 0 || (align & (align - 1)) != 0 || align > (1u << 20))) {
    return PD_ERROR(BadModelFile, "%s: general.alignment must be a power of two up to 2^20, found %llu", p,
                    (unsigned long long)align);
  }
  g.alignment = (uint32_t)align;

  if (n_tensors > c.remaining() / 32) {
    return PD_ERROR(BadModelFile, "%s: header claims %llu tensors, but only %zu bytes follow the key/values", p,
                    (unsigned long long)n_tensors, c.remaining());
  }
  g.tensors.reserve((size_t)std::min<uint64_t>(n_tensors, 4096));
  for (size_t i = 0; i < (size_t)n_tensors; i++) {
    g.tensors.emplace_back();
    PD_TRY(read_tensor_info(c, &g.tensors[i]));
    if (!g.tensor_index.emplace(g.tensors[i].name, i).second) {
      return PD_ERROR(BadModelFile, "%s: tensor '%s' appears twice", p, g.tensors[i].name.c_str());
    }
  }
  g.data_offset = ((uint64_t)c.pos + g.alignment - 1) / g.alignment * g.alignment;

  std::vector<const GgufTensorInfo*> order;
  order.reserve(g.tensors.size());
  for (const GgufTensorInfo& t : g.tensors) {
    if (t.offset % g.alignment != 0) {
      return PD_ERROR(BadModelFile, "%s: tensor '%s' starts at data offset %llu; expected a multiple of the alignment %u",
                      p, t.name.c_str(), (unsigned long long)t.offset, g.alignment);
    }
    if (g.data_offset > size || t.offset > size - g.data_offset || t.nbytes > size - g.data_offset - t.offset) {
      return PD_ERROR(BadModelFile,
                      "%s: tensor '%s' (%s, %zu bytes at file offset %llu) extends past the end of the file (%zu "
                      "bytes): the file is truncated or corrupt",
                      p, t.name.c_str(), dtype_name(t.type), t.nbytes,
                      (unsigned long long)(g.data_offset + t.offset), size);
    }
    order.push_back(&t);
  }
  std::sort(order.begin(), order.end(), [](const GgufTensorInfo* a, const GgufTensorInfo* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < order.size(); i++) {
    if (order[i - 1]->offset + order[i - 1]->nbytes > order[i]->offset) {
      return PD_ERROR(BadModelFile, "%s: tensors '%s' and '%s' overlap in the data section", p,
                      order[i - 1]->name.c_str(), order[i]->name.c_str());
    }
  }
  return Status();
}

// ---- typed getters ----

const GgufKV* GgufFile::find(const std::string& key) const {
  auto it = kv_index.find(key);
  return it == kv_index.end() ? nullptr : &kvs[it->second];
}

const GgufTensorInfo* GgufFile::find_tensor(const std::string& name) const {
  auto it = tensor_index.find(name);
  return it == tensor_index.end() ? nullptr : &tensors[it->second];
}

static bool is_int(GgufType t) {
  return t == GgufType::UINT8 || t == GgufType::INT8 || t == GgufType::UINT16 || t == GgufType::INT16 ||
         t == GgufType::UINT32 || t == GgufType::INT32 || t == GgufType::UINT64 || t == GgufType::INT64;
}
static bool is_signed(GgufType t) {
  return t == GgufType::INT8 || t == GgufType::INT16 || t == GgufType::INT32 || t == GgufType::INT64;
}

static Status wrong_type(const GgufFile& g, const GgufKV& kv, const char* expected) {
  return PD_ERROR(BadModelFile, "%s: key '%s': expected %s, found %s", g.path.c_str(), kv.key.c_str(), expected,
                  kv.type == GgufType::ARRAY ? "an array" : gguf_type_name(kv.type));
}

Status GgufFile::get_u64(const std::string& key, uint64_t* out, bool* found) const {
  const GgufKV* kv = find(key);
  *found = kv != nullptr;
  if (!kv) return Status();
  if (!is_int(kv->type) || (is_signed(kv->type) && kv->i < 0)) return wrong_type(*this, *kv, "a non-negative integer");
  *out = kv->u;
  return Status();
}

Status GgufFile::get_i64(const std::string& key, int64_t* out, bool* found) const {
  const GgufKV* kv = find(key);
  *found = kv != nullptr;
  if (!kv) return Status();
  if (!is_int(kv->type) || (kv->type == GgufType::UINT64 && kv->u > (uint64_t)INT64_MAX)) {
    return wrong_type(*this, *kv, "an integer");
  }
  *out = kv->i;
  return Status();
}

Status GgufFile::get_f32(const std::string& key, float* out, bool* found) const {
  const GgufKV* kv = find(key);
  *found = kv != nullptr;
  if (!kv) return Status();
  if (kv->type == GgufType::FLOAT32 || kv->type == GgufType::FLOAT64) {
    *out = (float)kv->f;
  } else if (is_int(kv->type)) {
    *out = is_signed(kv->type) ? (float)kv->i : (float)kv->u;
  } else {
    return wrong_type(*this, *kv, "a number");
  }
  return Status();
}

Status GgufFile::get_bool(const std::string& key, bool* out, bool* found) const {
  const GgufKV* kv = find(key);
  *found = kv != nullptr;
  if (!kv) return Status();
  if (kv->type != GgufType::BOOL && !is_int(kv->type)) return wrong_type(*this, *kv, "a bool");
  *out = kv->u != 0;
  return Status();
}

Status GgufFile::get_string(const std::string& key, std::string* out, bool* found) const {
  const GgufKV* kv = find(key);
  *found = kv != nullptr;
  if (!kv) return Status();
  if (kv->type != GgufType::STRING) return wrong_type(*this, *kv, "a string");
  *out = kv->str;
  return Status();
}

Status GgufFile::get_string_array(const std::string& key, std::vector<std::string>* out, bool* found) const {
  const GgufKV* kv = find(key);
  *found = kv != nullptr;
  if (!kv) return Status();
  if (kv->type != GgufType::ARRAY || kv->arr_type != GgufType::STRING) return wrong_type(*this, *kv, "an array of strings");
  *out = kv->arr_str;
  return Status();
}

Status GgufFile::get_f32_array(const std::string& key, std::vector<float>* out, bool* found) const {
  const GgufKV* kv = find(key);
  *found = kv != nullptr;
  if (!kv) return Status();
  if (kv->type != GgufType::ARRAY || (kv->arr_type != GgufType::FLOAT32 && kv->arr_type != GgufType::FLOAT64)) {
    return wrong_type(*this, *kv, "an array of floats");
  }
  out->resize((size_t)kv->arr_n);
  for (size_t i = 0; i < out->size(); i++) {
    if (kv->arr_type == GgufType::FLOAT32) {
      std::memcpy(&(*out)[i], kv->arr_raw + i * 4, 4);
    } else {
      double d;
      std::memcpy(&d, kv->arr_raw + i * 8, 8);
      (*out)[i] = (float)d;
    }
  }
  return Status();
}

Status GgufFile::get_i32_array(const std::string& key, std::vector<int32_t>* out, bool* found) const {
  const GgufKV* kv = find(key);
  *found = kv != nullptr;
  if (!kv) return Status();
  if (kv->type != GgufType::ARRAY || !is_int(kv->arr_type)) return wrong_type(*this, *kv, "an array of integers");
  const size_t es = scalar_size(kv->arr_type);
  out->resize((size_t)kv->arr_n);
  for (size_t i = 0; i < out->size(); i++) {
    int64_t v = 0;
    const uint8_t* src = kv->arr_raw + i * es;
    switch (kv->arr_type) {
      case GgufType::UINT8: v = *src; break;
      case GgufType::INT8: v = (int8_t)*src; break;
      case GgufType::UINT16: { uint16_t x; std::memcpy(&x, src, 2); v = x; break; }
      case GgufType::INT16: { int16_t x; std::memcpy(&x, src, 2); v = x; break; }
      case GgufType::UINT32: { uint32_t x; std::memcpy(&x, src, 4); v = x; break; }
      case GgufType::INT32: { int32_t x; std::memcpy(&x, src, 4); v = x; break; }
      case GgufType::UINT64: { uint64_t x; std::memcpy(&x, src, 8); v = x > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)x; break; }
      default: { int64_t x; std::memcpy(&x, src, 8); v = x; break; }
    }
    if (v < INT32_MIN || v > INT32_MAX) {
      return PD_ERROR(BadModelFile, "%s: array '%s' element %zu is %lld, outside the 32-bit range", path.c_str(),
                      key.c_str(), i, (long long)v);
    }
    (*out)[i] = (int32_t)v;
  }
  return Status();
}

}  // namespace paddock
