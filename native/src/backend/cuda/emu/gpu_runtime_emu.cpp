// gpu_runtime.h on the emulator: one pretend device whose memory is host memory. Streams are
// ordered by running everything at once (kernels run at launch), so every call is synchronous;
// a stream is a distinct handle only so that graph capture (emulator.h) can be per stream.
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "backend/cuda/gpu_runtime.h"
#include "backend/cuda/emu/emulator.h"
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
// Copies are not recorded: a stream being captured refuses them (as a real capture of a
// pageable-memory copy would fail), so a forward that uploads inside its graph is caught.
bool not_capturing(pd_stream_t s, const char* what) {
  if (!pd_emu::capturing(s)) return true;
  error_text() = std::string(what) + ": not allowed while the stream is being captured";
  return false;
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

bool copy_h2d(void* dst, const void* src, size_t bytes, pd_stream_t s) {
  if (!not_capturing(s, "copy_h2d")) return false;
  std::memmove(dst, src, bytes);
  return true;
}
bool copy_d2h(void* dst, const void* src, size_t bytes, pd_stream_t s) {
  if (!not_capturing(s, "copy_d2h")) return false;
  std::memmove(dst, src, bytes);
  return true;
}
bool copy_d2d(void* dst, const void* src, size_t bytes, pd_stream_t s) {
  if (!not_capturing(s, "copy_d2d")) return false;
  std::memmove(dst, src, bytes);
  return true;
}
bool memset_zero(void* dst, size_t bytes, pd_stream_t s) {
  if (!not_capturing(s, "memset_zero")) return false;
  std::memset(dst, 0, bytes);
  return true;
}

bool stream_create(pd_stream_t* s) {
  *s = new char;  // a distinct handle; nothing else
  return true;
}
void stream_destroy(pd_stream_t s) { delete static_cast<char*>(s); }
bool synchronize(pd_stream_t s) { return not_capturing(s, "synchronize"); }


bool graph_begin_capture(pd_stream_t s) {
  if (!s || pd_emu::capturing(s)) {
    error_text() = "graph_begin_capture: the legacy stream, or a stream already capturing";
    return false;
  }
  pd_emu::begin_capture(s);
  return true;
}
bool graph_end_capture(pd_stream_t s, pd_graph_t* graph) {
  *graph = nullptr;
  if (!pd_emu::capturing(s)) {
    error_text() = "graph_end_capture: the stream is not capturing";
    return false;
  }
  *graph = pd_emu::end_capture(s);
  return true;
}
bool graph_launch(pd_graph_t graph, pd_stream_t s) {
  if (!graph || !not_capturing(s, "graph_launch")) return false;
  pd_emu::replay(graph);
  note_graph_launch();
  return true;
}
void graph_destroy(pd_graph_t graph) { pd_emu::destroy_graph(graph); }
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
