// The CUDA module's entry point: the GpuBackend the core's registry loads (gpu_registry.h).
#include <mutex>

#include "backend/cuda/cuda_forward.h"
#include "backend/cuda/cuda_train_session.h"
#include "backend/cuda/gpu_runtime.h"
#include "backend/cuda/probe.h"
#include "backend/gpu/gpu_backend.h"

namespace paddock {
namespace {

class CudaBackend final : public GpuBackend {
 public:
  const char* name() const override { return "cuda"; }

  std::vector<GpuDeviceInfo> devices(std::string* why) override {
    std::vector<GpuDeviceInfo> out;
    const int n = pd_gpu::device_count(why);
    for (int i = 0; i < n; i++) {
      pd_gpu::DeviceProps p;
      std::string reason;
      if (!pd_gpu::device_props(i, &p, &reason)) {
        if (why) *why = reason;
        continue;
      }
      if (p.cc_major < 8) {  // the module is built for sm_80 and sm_90 only
        if (why)
          *why = p.name + " (compute capability " + std::to_string(p.cc_major) + "." + std::to_string(p.cc_minor) +
                 ") is older than what Paddock's CUDA kernels need (8.0, Ampere or later)";
        continue;
      }
      if (!probed(i, &reason)) {
        if (why) *why = p.name + ": " + reason;
        continue;
      }
      GpuDeviceInfo d;
      d.index = i;
      d.name = p.name;
      d.total_bytes = p.total_bytes;
      d.free_bytes = p.free_bytes;
      d.cc_major = p.cc_major;
      d.cc_minor = p.cc_minor;
      d.bf16 = p.cc_major >= 8;
      d.emulated = p.emulated;
      // The wgmma verdict is the probe's, taken on device 0 (gemm.cu reads device 0 too).
      d.matmul = i == 0 && pd_cuda::wgmma_enabled() ? "wgmma (sm_90a)" : "mma.sync (wgmma: " + pd_cuda::wgmma_status() + ")";
      out.push_back(d);
    }
    return out;
  }

  Status load_forward(std::shared_ptr<const Model> model, const GpuOffload& offload,
                      std::unique_ptr<GpuForward>* out) override {
    PD_TRY(use_device(offload.device));
    return create_cuda_forward(std::move(model), offload, out);
  }

  Status create_train_session(std::shared_ptr<const Model> model, const ParamSet& params, const LoraWeights* lora,
                              const GpuTrainOptions& options, std::unique_ptr<GpuTrainSession>* out) override {
    PD_TRY(use_device(options.device));
    return create_cuda_train_session(std::move(model), params, lora, options, out);
  }

 private:
  std::mutex mutex_;
  std::vector<int> probed_ok_;

  // The probe runs once per device: later calls reuse its verdict.
  bool probed(int device, std::string* why) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (int d : probed_ok_)
      if (d == device) return true;
    if (!pd_gpu::set_device(device, why) || !pd_cuda::probe_device(why)) return false;
    probed_ok_.push_back(device);
    return true;
  }

  Status use_device(int device) {
    std::string why;
    if (!pd_gpu::set_device(device, &why)) return PD_ERROR(Unsupported, "CUDA device %d: %s", device, why.c_str());
    return Status();
  }
};

}  // namespace
}  // namespace paddock

extern "C" __attribute__((visibility("default"))) paddock::GpuBackend* paddock_cuda_backend_v1() {
  static paddock::CudaBackend backend;
  return &backend;
}
