#include "io/gguf_writer.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "io/atomic_file.h"

namespace paddock {

// Where bytes go: a FILE* or a vector (tests write GGUFs in memory).
class GgufWriter::Sink {
 public:
  explicit Sink(std::FILE* f) : f_(f) {}
  explicit Sink(std::vector<uint8_t>* v) : v_(v) {}
  bool write(const void* p, size_t n) {
    pos_ += n;
    if (v_) {
      v_->insert(v_->end(), (const uint8_t*)p, (const uint8_t*)p + n);
      return true;
    }
    return std::fwrite(p, 1, n, f_) == n;
  }
  template <class T>
  bool pod(T v) { return write(&v, sizeof v); }
  bool str(const std::string& s) { return pod<uint64_t>(s.size()) && write(s.data(), s.size()); }
  bool pad_to(uint64_t align) {
    static const uint8_t zeros[64] = {0};
    while (pos_ % align != 0) {
      size_t n = (size_t)(align - pos_ % align);
      if (!write(zeros, n < sizeof zeros ? n : sizeof zeros)) return false;
    }
    return true;
  }
  uint64_t pos() const { return pos_; }

 private:
  std::FILE* f_ = nullptr;
  std::vector<uint8_t>* v_ = nullptr;
  uint64_t pos_ = 0;
};

GgufWriter::KV& GgufWriter::put(const std::string& key, GgufType type) {
  for (KV& kv : kvs_) {
    if (kv.key == key) {  // setting a key again replaces its value, keeping its place
      kv = KV{key, type, GgufType::UINT8, {}, {}, {}, 0};
      return kv;
    }
  }
  kvs_.push_back(KV{key, type, GgufType::UINT8, {}, {}, {}, 0});
  return kvs_.back();
}

template <class T>
static std::vector<uint8_t> bytes_of(const T* p, size_t n) {
  return std::vector<uint8_t>((const uint8_t*)p, (const uint8_t*)p + n * sizeof(T));
}

void GgufWriter::set_string(const std::string& key, const std::string& v) { put(key, GgufType::STRING).str = v; }
void GgufWriter::set_u32(const std::string& key, uint32_t v) { put(key, GgufType::UINT32).raw = bytes_of(&v, 1); }
void GgufWriter::set_i32(const std::string& key, int32_t v) { put(key, GgufType::INT32).raw = bytes_of(&v, 1); }
void GgufWriter::set_u64(const std::string& key, uint64_t v) { put(key, GgufType::UINT64).raw = bytes_of(&v, 1); }
void GgufWriter::set_f32(const std::string& key, float v) { put(key, GgufType::FLOAT32).raw = bytes_of(&v, 1); }
void GgufWriter::set_bool(const std::string& key, bool v) {
  uint8_t b = v ? 1 : 0;
  put(key, GgufType::BOOL).raw = bytes_of(&b, 1);
}
void GgufWriter::set_string_array(const std::string& key, const std::vector<std::string>& v) {
  KV& kv = put(key, GgufType::ARRAY);
  kv.arr_type = GgufType::STRING;
  kv.arr_n = v.size();
  kv.strs = v;
}
void GgufWriter::set_f32_array(const std::string& key, const std::vector<float>& v) {
  KV& kv = put(key, GgufType::ARRAY);
  kv.arr_type = GgufType::FLOAT32;
  kv.arr_n = v.size();
  kv.raw = bytes_of(v.data(), v.size());
}
void GgufWriter::set_i32_array(const std::string& key, const std::vector<int32_t>& v) {
  KV& kv = put(key, GgufType::ARRAY);
  kv.arr_type = GgufType::INT32;
  kv.arr_n = v.size();
  kv.raw = bytes_of(v.data(), v.size());
}

void GgufWriter::add_tensor(const std::string& name, DType type, const std::vector<int64_t>& ne, const void* data,
                            DType src_type) {
  TensorEntry t{name, type, src_type, ne, data, 0, nullptr};
  int64_t rows = 1;
  for (size_t i = 1; i < ne.size(); i++) rows *= ne[i];
  size_t row_bytes = 0;
  if (!ne.empty() && dtype_row_bytes(type, ne[0], &row_bytes)) t.nbytes = row_bytes * (size_t)rows;
  tensors_.push_back(std::move(t));
}

void GgufWriter::add_tensor_rows(const std::string& name, DType type, const std::vector<int64_t>& ne, RowFill fill) {
  add_tensor(name, type, ne, nullptr, type);
  tensors_.back().fill = std::move(fill);
}

Status GgufWriter::check() const {
  if (alignment_ == 0 || (alignment_ & (alignment_ - 1)) != 0) {
    return PD_ERROR(InvalidArgument, "GGUF alignment must be a power of two, got %u", alignment_);
  }
  for (const TensorEntry& t : tensors_) {
    if (t.ne.empty() || t.ne.size() > 4 || t.nbytes == 0 || (!t.data && !t.fill)) {
      return PD_ERROR(InvalidArgument, "tensor '%s': bad shape, type or data for GGUF output", t.name.c_str());
    }
    const bool convertible = t.type == t.src_type || (dtype_is_float(t.type) && dtype_is_float(t.src_type));
    if (!convertible) {
      return PD_ERROR(Unsupported, "tensor '%s': cannot convert %s to %s", t.name.c_str(), dtype_name(t.src_type),
                      dtype_name(t.type));
    }
  }
  return Status();
}

Status GgufWriter::write(Sink& out) const {
  PD_TRY(check());
  bool ok = out.pod<uint32_t>(kGgufMagic) && out.pod<uint32_t>(3) && out.pod<uint64_t>(tensors_.size()) &&
            out.pod<uint64_t>(kvs_.size());
  for (const KV& kv : kvs_) {
    ok = ok && out.str(kv.key) && out.pod<uint32_t>((uint32_t)kv.type);
    if (kv.type == GgufType::STRING) {
      ok = ok && out.str(kv.str);
    } else if (kv.type == GgufType::ARRAY) {
      ok = ok && out.pod<uint32_t>((uint32_t)kv.arr_type) && out.pod<uint64_t>(kv.arr_n);
      if (kv.arr_type == GgufType::STRING) {
        for (const std::string& s : kv.strs) ok = ok && out.str(s);
      } else {
        ok = ok && out.write(kv.raw.data(), kv.raw.size());
      }
    } else {
      ok = ok && out.write(kv.raw.data(), kv.raw.size());
    }
  }
  uint64_t offset = 0;
  for (const TensorEntry& t : tensors_) {
    ok = ok && out.str(t.name) && out.pod<uint32_t>((uint32_t)t.ne.size());
    for (int64_t d : t.ne) ok = ok && out.pod<uint64_t>((uint64_t)d);
    ok = ok && out.pod<uint32_t>((uint32_t)t.type) && out.pod<uint64_t>(offset);
    offset += (t.nbytes + alignment_ - 1) / alignment_ * alignment_;
  }
  ok = ok && out.pad_to(alignment_);

  std::vector<float> f32row;
  std::vector<uint8_t> outrow;
  for (const TensorEntry& t : tensors_) {
    if (!ok) break;
    if (t.fill) {
      size_t row_bytes = 0;
      dtype_row_bytes(t.type, t.ne[0], &row_bytes);
      const int64_t n_rows = (int64_t)(t.nbytes / row_bytes);
      const int64_t chunk = std::max<int64_t>(1, (int64_t)((size_t)(32u << 20) / row_bytes));  // ~32 MiB at a time
      outrow.resize((size_t)std::min(chunk, n_rows) * row_bytes);
      for (int64_t r = 0; r < n_rows && ok; r += chunk) {
        const int64_t n = std::min(chunk, n_rows - r);
        PD_TRY(t.fill(r, n, outrow.data()));
        ok = out.write(outrow.data(), (size_t)n * row_bytes);
      }
    } else if (t.type == t.src_type) {
      ok = out.write(t.data, t.nbytes);
    } else {
      const int64_t n0 = t.ne[0];
      size_t src_row = 0, dst_row = 0;
      dtype_row_bytes(t.src_type, n0, &src_row);
      dtype_row_bytes(t.type, n0, &dst_row);
      const size_t n_rows = t.nbytes / dst_row;
      f32row.resize((size_t)n0);
      outrow.resize(dst_row);
      for (size_t r = 0; r < n_rows && ok; r++) {
        convert_to_f32(t.src_type, (const uint8_t*)t.data + r * src_row, f32row.data(), n0);
        convert_from_f32(f32row.data(), t.type, outrow.data(), n0);
        ok = out.write(outrow.data(), dst_row);
      }
    }
    ok = ok && out.pad_to(alignment_);
  }
  if (!ok) return PD_ERROR(IO, "write failed: %s", std::strerror(errno));
  return Status();
}

Status GgufWriter::write_to_memory(std::vector<uint8_t>* out) const {
  out->clear();
  Sink sink(out);
  return write(sink);
}

Status GgufWriter::write_file(const std::string& path) const {
  PD_TRY(check());
  return write_file_atomically(path, [&](std::FILE* f) {
    Sink sink(f);
    return write(sink);
  });
}

}  // namespace paddock
