// gpu_runtime.h on the emulator: one pretend device whose memory is host memory. Streams are
// ignored (kernels run at launch), so every call is synchronous.
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "backend/cuda/gpu_runtime.h"
#include "core/sysinfo.h"

namespace pd_gpu {
namespace {
std::string& error_text() {
  static std::string e;
  return e;
}
double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

int device_count(std::string* why) { return 1; }

bool device_props(int device, DeviceProps* out, std::string* why) {
  if (device != 0) {
    if (why) *why = "the emulator has one device";
    return false;
  }
  out->name = "Paddock CUDA emulator (CPU)";
  out->total_bytes = paddock::total_memory_bytes();
  out->free_bytes = out->total_bytes / 2;
  out->cc_major = 8;
  out->cc_minor = 0;
  out->sm_count = 1;
  out->max_smem_per_block = 227 * 1024;
  out->emulated = true;
  return true;
}

bool set_device(int device, std::string* why) {
  if (device == 0) return true;
  if (why) *why = "the emulator has one device";
  return false;
}

void* device_malloc(size_t bytes) {
  void* p = std::malloc(bytes ? bytes : 1);
  if (!p) error_text() = "device_malloc: out of host memory";
  else std::memset(p, 0xA5, bytes);  // garbage, as cudaMalloc's memory is
  return p;
}
void device_free(void* p) { std::free(p); }

bool mem_get_info(uint64_t* free_bytes, uint64_t* total_bytes) {
  *total_bytes = paddock::total_memory_bytes();
  *free_bytes = *total_bytes / 2;
  return true;
}

bool copy_h2d(void* dst, const void* src, size_t bytes, pd_stream_t) { std::memmove(dst, src, bytes); return true; }
bool copy_d2h(void* dst, const void* src, size_t bytes, pd_stream_t) { std::memmove(dst, src, bytes); return true; }
bool copy_d2d(void* dst, const void* src, size_t bytes, pd_stream_t) { std::memmove(dst, src, bytes); return true; }
bool memset_zero(void* dst, size_t bytes, pd_stream_t) { std::memset(dst, 0, bytes); return true; }

bool stream_create(pd_stream_t* s) { *s = nullptr; return true; }
void stream_destroy(pd_stream_t) {}
bool synchronize(pd_stream_t) { return true; }
bool check_launch(const char*) { return true; }
const std::string& last_error() { return error_text(); }

bool timer_start(Timer* t, pd_stream_t) {
  static_assert(sizeof(double) <= sizeof(void*), "timer storage");
  const double ms = now_ms();
  std::memcpy(&t->start_event, &ms, sizeof ms);
  return true;
}
bool timer_stop_ms(Timer* t, double* ms, pd_stream_t) {
  double start;
  std::memcpy(&start, &t->start_event, sizeof start);
  *ms = now_ms() - start;
  return true;
}

}  // namespace pd_gpu
