#include "io/safetensors.h"

#include <cstring>
#include <string_view>

#include "io/json_reader.h"
#include "io/mapped_file.h"

namespace paddock {

namespace {

// The safetensors dtype names and their element sizes (BOOL is one byte).
size_t dtype_bytes(const std::string& d) {
  static const struct {
    const char* name;
    size_t bytes;
  } kTypes[] = {{"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8}, {"I32", 4}, {"I16", 2}, {"I8", 1},
                {"U64", 8}, {"U32", 4}, {"U16", 2}, {"U8", 1}, {"BOOL", 1}, {"F8_E4M3", 1}, {"F8_E5M2", 1}};
  for (const auto& t : kTypes)
    if (d == t.name) return t.bytes;
  return 0;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); i++) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// The safetensors library refuses headers above 100 MB; so do we (a mutated length must not
// make us parse the whole of a multi-gigabyte file as JSON).
constexpr uint64_t kMaxHeaderBytes = 100u << 20;

Status parse_entry(const std::string& path, const std::string& name, const Json& e, uint64_t data_size,
                   const uint8_t* data, SafetensorsTensor* t) {
  const char* p = path.c_str();
  const char* n = name.c_str();
  if (e.kind != Json::Obj) return PD_ERROR(BadModelFile, "%s: tensor %s: expected an object in the header", p, n);
  t->name = name;
  t->dtype = e.str("dtype");
  const size_t elem = dtype_bytes(t->dtype);
  if (elem == 0) {
    return PD_ERROR(Unsupported, "%s: tensor %s has dtype '%s', which is not a safetensors type Paddock knows", p, n,
                    t->dtype.c_str());
  }
  t->is_float = t->dtype == "F32" || t->dtype == "F16" || t->dtype == "BF16";
  t->type = t->dtype == "F16" ? DType::F16 : t->dtype == "BF16" ? DType::BF16 : DType::F32;
  const Json* shape = e.get("shape");
  if (!shape || shape->kind != Json::Arr || shape->a.size() > 8) {
    return PD_ERROR(BadModelFile, "%s: tensor %s: expected a shape (a list of up to 8 sizes)", p, n);
  }
  uint64_t count = 1;
  for (const Json& d : shape->a) {
    if (!d.is_count() || d.n > (double)(1ull << 40)) return PD_ERROR(BadModelFile, "%s: tensor %s: bad shape entry", p, n);
    const uint64_t v = (uint64_t)d.n;
    if (v != 0 && count > (1ull << 62) / v) return PD_ERROR(BadModelFile, "%s: tensor %s: shape too large", p, n);
    count *= v;
    t->shape.push_back((int64_t)v);
  }
  const Json* off = e.get("data_offsets");
  if (!off || off->kind != Json::Arr || off->a.size() != 2 || !off->a[0].is_count() || !off->a[1].is_count()) {
    return PD_ERROR(BadModelFile, "%s: tensor %s: expected data_offsets [begin, end]", p, n);
  }
  const uint64_t begin = (uint64_t)off->a[0].n, end = (uint64_t)off->a[1].n;
  if (begin > end || end > data_size) {
    return PD_ERROR(BadModelFile, "%s: tensor %s: data_offsets [%llu, %llu] lie outside the %llu data bytes of the file", p,
                    n, (unsigned long long)begin, (unsigned long long)end, (unsigned long long)data_size);
  }
  if (count > (1ull << 62) / elem || end - begin != count * elem) {
    return PD_ERROR(BadModelFile, "%s: tensor %s: %s of shape %s needs %llu bytes, data_offsets give %llu", p, n,
                    t->dtype.c_str(), shape_text(t->shape).c_str(), (unsigned long long)(count * elem),
                    (unsigned long long)(end - begin));
  }
  t->data = data + begin;
  t->nbytes = end - begin;
  return Status();
}

}  // namespace

const SafetensorsTensor* SafetensorsFile::find(const std::string& name) const {
  for (const SafetensorsTensor& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

const std::string& SafetensorsFile::path() const { return file->path(); }

Status safetensors_parse(std::shared_ptr<MappedFile> file, SafetensorsFile* out) {
  const char* p = file->path().c_str();
  const uint64_t size = file->size();
  if (size < 8) return PD_ERROR(BadModelFile, "%s: expected a safetensors header length (8 bytes), found a %llu-byte file", p,
                                (unsigned long long)size);
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; i--) header_len = (header_len << 8) | file->data()[i];  // little-endian
  if (header_len > size - 8) {
    return PD_ERROR(BadModelFile, "%s: the safetensors header length %llu goes beyond the end of the file (%llu bytes)", p,
                    (unsigned long long)header_len, (unsigned long long)size);
  }
  if (header_len > kMaxHeaderBytes) {
    return PD_ERROR(BadModelFile, "%s: the safetensors header length %llu is above the format's 100 MB limit", p,
                    (unsigned long long)header_len);
  }
  std::string_view text((const char*)file->data() + 8, (size_t)header_len);
  Json root;
  size_t error_pos = 0;
  if (!parse_json(text, &root, &error_pos) || root.kind != Json::Obj) {
    return PD_ERROR(BadModelFile, "%s: the safetensors header is not a JSON object (stopped at byte %zu of %llu)", p,
                    error_pos + 8, (unsigned long long)header_len);
  }
  const uint8_t* data = file->data() + 8 + header_len;
  const uint64_t data_size = size - 8 - header_len;
  SafetensorsFile f;
  f.tensors.reserve(root.o.size());
  for (const auto& kv : root.o) {
    if (kv.first == "__metadata__") {
      if (kv.second.kind != Json::Obj) return PD_ERROR(BadModelFile, "%s: __metadata__ is not an object", p);
      for (const auto& m : kv.second.o)
        if (m.second.kind == Json::Str) f.metadata.push_back({m.first, m.second.s});
      continue;
    }
    f.tensors.emplace_back();
    PD_TRY(parse_entry(file->path(), kv.first, kv.second, data_size, data, &f.tensors.back()));
  }
  f.file = std::move(file);
  *out = std::move(f);
  return Status();
}

}  // namespace paddock
