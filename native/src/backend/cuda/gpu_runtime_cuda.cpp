// gpu_runtime.h on cudart (linked statically: the module needs only the driver, libcuda.so.1,
// which cudart loads itself, so a machine without one gets an error value, not a load failure).
#include <cuda_runtime_api.h>

#include <cstdio>

#include "backend/cuda/gpu_runtime.h"

namespace pd_gpu {
namespace {
std::string& error_text() {
  static thread_local std::string e;
  return e;
}
bool ok(cudaError_t err, const char* what) {
  if (err == cudaSuccess) return true;
  error_text() = std::string(what) + ": " + cudaGetErrorName(err) + " (" + cudaGetErrorString(err) + ")";
  return false;
}
}  // namespace

int device_count(std::string* why) {
  int n = 0;
  const cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess) {
    if (why) {
      if (err == cudaErrorInsufficientDriver)
        *why = "no NVIDIA driver found, or one older than CUDA 13 needs (580)";
      else if (err == cudaErrorNoDevice)
        *why = "no NVIDIA GPU found";
      else
        *why = std::string("CUDA could not start: ") + cudaGetErrorName(err) + " (" + cudaGetErrorString(err) + ")";
    }
    cudaGetLastError();  // clear the sticky-free error so later calls start clean
    return 0;
  }
  if (n == 0 && why) *why = "no NVIDIA GPU found";
  return n;
}

bool device_props(int device, DeviceProps* out, std::string* why) {
  cudaDeviceProp p;
  if (!ok(cudaGetDeviceProperties(&p, device), "cudaGetDeviceProperties")) {
    if (why) *why = error_text();
    return false;
  }
  out->name = p.name;
  out->total_bytes = p.totalGlobalMem;
  out->cc_major = p.major;
  out->cc_minor = p.minor;
  out->sm_count = p.multiProcessorCount;
  out->max_smem_per_block = (int)p.sharedMemPerBlockOptin;
  out->emulated = false;
  int previous = 0;
  cudaGetDevice(&previous);
  size_t free_b = 0, total_b = 0;
  if (cudaSetDevice(device) == cudaSuccess && cudaMemGetInfo(&free_b, &total_b) == cudaSuccess)
    out->free_bytes = free_b;
  cudaSetDevice(previous);
  return true;
}

bool set_device(int device, std::string* why) {
  if (ok(cudaSetDevice(device), "cudaSetDevice")) return true;
  if (why) *why = error_text();
  return false;
}

void* device_malloc(size_t bytes) {
  void* p = nullptr;
  if (!ok(cudaMalloc(&p, bytes ? bytes : 1), "cudaMalloc")) return nullptr;
  return p;
}
void device_free(void* p) {
  if (p) cudaFree(p);
}
bool mem_get_info(uint64_t* free_bytes, uint64_t* total_bytes) {
  size_t f = 0, t = 0;
  if (!ok(cudaMemGetInfo(&f, &t), "cudaMemGetInfo")) return false;
  *free_bytes = f;
  *total_bytes = t;
  return true;
}

bool copy_h2d(void* dst, const void* src, size_t bytes, pd_stream_t s) {
  return ok(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, s), "cudaMemcpy (to device)");
}
bool copy_d2h(void* dst, const void* src, size_t bytes, pd_stream_t s) {
  if (!ok(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, s), "cudaMemcpy (to host)")) return false;
  return ok(cudaStreamSynchronize(s), "cudaStreamSynchronize");  // the caller reads dst next
}
bool copy_d2d(void* dst, const void* src, size_t bytes, pd_stream_t s) {
  return ok(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, s), "cudaMemcpy (device)");
}
bool memset_zero(void* dst, size_t bytes, pd_stream_t s) { return ok(cudaMemsetAsync(dst, 0, bytes, s), "cudaMemset"); }

bool stream_create(pd_stream_t* s) { return ok(cudaStreamCreateWithFlags(s, cudaStreamNonBlocking), "cudaStreamCreate"); }
void stream_destroy(pd_stream_t s) {
  if (s) cudaStreamDestroy(s);
}
bool synchronize(pd_stream_t s) { return ok(cudaStreamSynchronize(s), "cudaStreamSynchronize"); }

bool graph_begin_capture(pd_stream_t s) {
  return ok(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture");
}
bool graph_end_capture(pd_stream_t s, pd_graph_t* graph) {
  *graph = nullptr;
  cudaGraph_t g = nullptr;
  if (!ok(cudaStreamEndCapture(s, &g), "cudaStreamEndCapture")) {
    if (g) cudaGraphDestroy(g);
    return false;
  }
  cudaGraphExec_t exec = nullptr;
  const bool good = ok(cudaGraphInstantiate(&exec, g, 0), "cudaGraphInstantiate");
  cudaGraphDestroy(g);  // the executable graph keeps what it needs
  if (good) *graph = exec;
  return good;
}
bool graph_launch(pd_graph_t graph, pd_stream_t s) {
  if (!ok(cudaGraphLaunch((cudaGraphExec_t)graph, s), "cudaGraphLaunch")) return false;
  note_graph_launch();
  return true;
}
void graph_destroy(pd_graph_t graph) {
  if (graph) cudaGraphExecDestroy((cudaGraphExec_t)graph);
}
bool check_launch(const char* what) { return ok(cudaGetLastError(), what); }
const std::string& last_error() { return error_text(); }

bool timer_start(Timer* t, pd_stream_t s) {
  cudaEvent_t a, b;
  if (!ok(cudaEventCreate(&a), "cudaEventCreate") || !ok(cudaEventCreate(&b), "cudaEventCreate")) return false;
  t->start_event = a;
  t->stop_event = b;
  return ok(cudaEventRecord(a, s), "cudaEventRecord");
}
bool timer_stop_ms(Timer* t, double* ms, pd_stream_t s) {
  cudaEvent_t a = (cudaEvent_t)t->start_event, b = (cudaEvent_t)t->stop_event;
  float f = 0;
  const bool good = ok(cudaEventRecord(b, s), "cudaEventRecord") && ok(cudaEventSynchronize(b), "cudaEventSynchronize") &&
                    ok(cudaEventElapsedTime(&f, a, b), "cudaEventElapsedTime");
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  *ms = f;
  return good;
}

}  // namespace pd_gpu
