#include "backend/cuda/cuda_weights.h"

#include <cstdio>

#include "backend/cuda/quant_ops.h"

namespace paddock {

namespace {
constexpr size_t kAlign = 256;  // every block starts on a 256-byte boundary (vector loads, cp.async)
size_t align_up(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }
}  // namespace

std::string format_bytes(uint64_t bytes) {
  char buf[48];
  if (bytes >= (1ull << 30)) {
    std::snprintf(buf, sizeof(buf), "%.2f GiB", bytes / 1073741824.0);
  } else {
    std::snprintf(buf, sizeof(buf), "%.1f MiB", bytes / 1048576.0);
  }
  return buf;
}

void* DeviceArena::take(size_t bytes) {
  if (!base_) {
    needed_ = align_up(needed_) + bytes;
    return nullptr;
  }
  cursor_ = align_up(cursor_);
  void* p = base_ + cursor_;
  cursor_ += bytes;
  return p;
}

Status DeviceArena::allocate(const char* what) {
  if (base_) pd_gpu::device_free(base_);
  base_ = nullptr;
  const size_t bytes = align_up(needed_ > 0 ? needed_ : 1);
  uint64_t free_bytes = 0, total_bytes = 0;
  if (pd_gpu::mem_get_info(&free_bytes, &total_bytes) && bytes > free_bytes) {
    return PD_ERROR(OutOfMemory, "%s needs %s of GPU memory (%llu bytes); %s of %s are free", what,
                    format_bytes(bytes).c_str(), (unsigned long long)bytes, format_bytes(free_bytes).c_str(),
                    format_bytes(total_bytes).c_str());
  }
  base_ = (char*)pd_gpu::device_malloc(bytes);
  if (!base_) {
    return PD_ERROR(OutOfMemory, "%s needs %s of GPU memory (%llu bytes); the allocation failed: %s", what,
                    format_bytes(bytes).c_str(), (unsigned long long)bytes, pd_gpu::last_error().c_str());
  }
  needed_ = bytes;
  cursor_ = 0;
  return Status();
}

void DeviceArena::release() {
  if (base_) pd_gpu::device_free(base_);
  base_ = nullptr;
  needed_ = cursor_ = 0;
}

Status check_device_weight(const Tensor& t) {
  if (!pd_cuda::quant_supported(t.type)) {
    return PD_ERROR(Unsupported, "tensor %s has type %s, which Paddock's CUDA kernels do not support", t.name.c_str(),
                    dtype_name(t.type));
  }
  return Status();
}

Status check_f32_vector(const Tensor& t) {
  if (t.type != DType::F32) {
    return PD_ERROR(Unsupported, "tensor %s has type %s; the CUDA forward needs F32 norm weights", t.name.c_str(),
                    dtype_name(t.type));
  }
  return Status();
}

DeviceMatrix take_matrix(DeviceArena& arena, const Tensor& t) {
  DeviceMatrix m;
  m.type = t.type;
  m.rows = t.nrows();
  m.cols = t.ne[0];
  m.host = &t;
  m.data = arena.take(m.bytes());
  return m;
}

Status upload_bytes(void* dst, const void* src, size_t bytes, const char* what) {
  if (!pd_gpu::copy_h2d(dst, src, bytes)) {
    return PD_ERROR(Internal, "uploading %s to the GPU failed: %s", what, pd_gpu::last_error().c_str());
  }
  return Status();
}

Status upload_matrix(const DeviceMatrix& m) {
  return upload_bytes(m.data, m.host->data, m.bytes(), m.host->name.c_str());
}

}  // namespace paddock
