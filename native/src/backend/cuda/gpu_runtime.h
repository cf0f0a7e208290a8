// The host side of the CUDA backend: device memory, copies, streams and launch checks, behind
// one small API with two implementations. Built by nvcc (the shipped module) it is cudart;
// built with PADDOCK_CUDA_EMU (tests on machines without a GPU) it is host memory, and kernels
// run in the fiber emulator (emu/emulator.h). Host code of the backend (.cpp next to the .cu
// files) uses only this, so the same orchestration code runs on a GPU and in CI.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#if defined(PADDOCK_CUDA_EMU)
#include <cuda_bf16.h>      // host-usable conversions; only headers of the toolkit are used
#include <cuda_fp16.h>
#include <vector_types.h>
using pd_stream_t = void*;
#else
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime_api.h>
using pd_stream_t = cudaStream_t;
#endif

using pd_bf16 = __nv_bfloat16;
using pd_half = __half;

namespace pd_gpu {

struct DeviceProps {
  std::string name;
  uint64_t total_bytes = 0, free_bytes = 0;
  int cc_major = 0, cc_minor = 0;
  int sm_count = 0;
  int max_smem_per_block = 0;   // opt-in maximum (bytes)
  bool emulated = false;        // the CPU emulator, never a real GPU
};

// Number of usable devices; 0 with *why set when there is no driver, no device or an error
// (the reason is shown to users: "no NVIDIA driver found (cudaErrorInsufficientDriver)").
int device_count(std::string* why);
bool device_props(int device, DeviceProps* out, std::string* why);
bool set_device(int device, std::string* why);

// Allocation: nullptr on failure (then last_error() says why). Freed with device_free.
void* device_malloc(size_t bytes);
void device_free(void* p);
bool mem_get_info(uint64_t* free_bytes, uint64_t* total_bytes);

// Stream-ordered copies and fills on `s` (nullptr: the default stream). False on error.
bool copy_h2d(void* dst, const void* src, size_t bytes, pd_stream_t s = nullptr);
bool copy_d2h(void* dst, const void* src, size_t bytes, pd_stream_t s = nullptr);
bool copy_d2d(void* dst, const void* src, size_t bytes, pd_stream_t s = nullptr);
bool memset_zero(void* dst, size_t bytes, pd_stream_t s = nullptr);

// A non-blocking stream (never the legacy stream 0: only such a stream can be captured). The
// emulator hands out distinct non-null handles so that capture state is per stream there too.
bool stream_create(pd_stream_t* s);
void stream_destroy(pd_stream_t s);
bool synchronize(pd_stream_t s = nullptr);  // waits for the stream; false if a kernel failed

// CUDA graphs (single-token decode replays one captured step): between begin and end, work
// enqueued on `s` by this thread is recorded instead of run (cudaStreamCaptureModeThreadLocal);
// end_capture instantiates it. Kernel arguments are frozen at capture: whatever varies between
// replays must be read by the kernels from device memory, written before graph_launch. The
// emulator records pd_launch calls (arguments copied by value) and replays them in order.
using pd_graph_t = void*;  // cudaGraphExec_t
bool graph_begin_capture(pd_stream_t s);
// Always ends the capture; false (last_error set, *graph nullptr) if it or the instantiation failed.
bool graph_end_capture(pd_stream_t s, pd_graph_t* graph);
bool graph_launch(pd_graph_t graph, pd_stream_t s);
void graph_destroy(pd_graph_t graph);

// Launches so far, this process (benchmarks' per-token figures, tests): kernels issued on the
// host through pd_launch (a graph replay adds none: its kernels were counted at capture) and
// graphs launched by graph_launch.
struct LaunchCounters {
  std::atomic<uint64_t> kernels{0}, graphs{0};
};
inline LaunchCounters& launch_counters() {
  static LaunchCounters counters;
  return counters;
}
inline uint64_t host_launch_count() { return launch_counters().kernels.load(std::memory_order_relaxed); }
inline void note_host_launch() { launch_counters().kernels.fetch_add(1, std::memory_order_relaxed); }
inline uint64_t graph_launch_count() { return launch_counters().graphs.load(std::memory_order_relaxed); }
inline void note_graph_launch() { launch_counters().graphs.fetch_add(1, std::memory_order_relaxed); }

// After a launch: false (and last_error set) if the launch was refused or a kernel faulted.
bool check_launch(const char* what);
// The most recent error, as "what: cudaErrorX (message)".
const std::string& last_error();

// Device-side elapsed time between two points on a stream, for benchmarks (emulator: host time).
struct Timer {
  void* start_event = nullptr;
  void* stop_event = nullptr;
};
bool timer_start(Timer* t, pd_stream_t s = nullptr);
bool timer_stop_ms(Timer* t, double* ms, pd_stream_t s = nullptr);

}  // namespace pd_gpu
