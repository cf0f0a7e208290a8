#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <vector>

#include "backend/cuda/gemm_wgmma.h"
#include "backend/cuda/gpu_device.cuh"
#include "backend/cuda/probe.h"

namespace pd_cuda {
namespace {

// a [16][16] and b [8][16] (B stored n-major, as the "col" operand wants) BF16; d [16][8] F32.
__global__ void probe_kernel(const pd_bf16* a, const pd_bf16* b, float* d, float* total) {
  __shared__ __align__(16) pd_bf16 sa[16 * 16];
  __shared__ __align__(16) pd_bf16 sb[8 * 16];
  const int lane = threadIdx.x;
  for (int i = lane; i < 256; i += 32) sa[i] = a[i];
  for (int i = lane; i < 128; i += 32) sb[i] = b[i];
  __syncthreads();
  uint32_t fa[4], fb[2];
  // x4: lanes 0-15 address rows 0-15 at column 0, lanes 16-31 rows 0-15 at column 8.
  pd_ldmatrix_x4(fa, &sa[(lane % 16) * 16 + (lane / 16) * 8]);
  // x2 over B's n-major rows: lanes 0-7 rows (n) 0-7 at k 0, lanes 8-15 at k 8.
  pd_ldmatrix_x2(fb, &sb[(lane % 8) * 16 + ((lane / 8) % 2) * 8]);
  float acc[4] = {0, 0, 0, 0};
  pd_mma_16816_bf16(acc, fa, fb, acc);
  const int g = lane / 4, q = lane % 4;
  d[g * 8 + 2 * q] = acc[0];
  d[g * 8 + 2 * q + 1] = acc[1];
  d[(g + 8) * 8 + 2 * q] = acc[2];
  d[(g + 8) * 8 + 2 * q + 1] = acc[3];
  const float sum = pd_warp_sum(acc[0] + acc[1] + acc[2] + acc[3]);
  if (lane == 0) *total = sum;
}

std::atomic<bool> g_wgmma_enabled{false};
std::mutex g_wgmma_mutex;
std::string g_wgmma_status = "not probed";

void set_wgmma_state(bool enabled, const std::string& status) {
  std::lock_guard<std::mutex> lock(g_wgmma_mutex);
  g_wgmma_status = status;
  g_wgmma_enabled = enabled;
}

// The wgmma kernels exist for sm_90a only; elsewhere they are simply not offered.
void probe_wgmma() {
  pd_gpu::DeviceProps props;
  std::string why;
  if (!pd_gpu::device_props(0, &props, &why)) return set_wgmma_state(false, "disabled: " + why);
  if (props.cc_major != 9 || props.cc_minor != 0) {
    char msg[64];
    std::snprintf(msg, sizeof msg, "not a sm_90 device (sm_%d%d)", props.cc_major, props.cc_minor);
    return set_wgmma_state(false, msg);
  }
  // A user's escape hatch should the kernels misbehave on some driver: mma.sync serves everything.
  const char* env = std::getenv("PADDOCK_CUDA_WGMMA");
  if (env && std::string(env) == "0") return set_wgmma_state(false, "disabled by PADDOCK_CUDA_WGMMA=0");
  if (!wgmma_self_test(&why)) return set_wgmma_state(false, "disabled: " + why);
  set_wgmma_state(true, "enabled");
}

}  // namespace

bool wgmma_enabled() { return g_wgmma_enabled; }

std::string wgmma_status() {
  std::lock_guard<std::mutex> lock(g_wgmma_mutex);
  return g_wgmma_status;
}

bool probe_device(std::string* why) {
  std::vector<pd_bf16> a(256), b(128);
  std::vector<float> af(256), bf(128);
  for (int i = 0; i < 256; i++) {
    af[i] = (float)((i * 7) % 13 - 6) / 4.0f;  // exact in BF16
    a[i] = __float2bfloat16_rn(af[i]);
  }
  for (int i = 0; i < 128; i++) {
    bf[i] = (float)((i * 5) % 11 - 5) / 2.0f;
    b[i] = __float2bfloat16_rn(bf[i]);
  }
  const size_t bytes = 256 * 2 + 128 * 2 + 128 * 4 + 4;
  unsigned char* mem = (unsigned char*)pd_gpu::device_malloc(bytes);
  if (!mem) {
    *why = pd_gpu::last_error();
    return false;
  }
  pd_bf16* da = (pd_bf16*)mem;
  pd_bf16* db = da + 256;
  float* dd = (float*)(db + 128);
  float* dt = dd + 128;
  std::vector<float> d(128);
  float total = 0;
  bool good = pd_gpu::copy_h2d(da, a.data(), 512) && pd_gpu::copy_h2d(db, b.data(), 256);
  if (good) {
    pd_launch(probe_kernel, dim3(1), dim3(32), 0, nullptr, (const pd_bf16*)da, (const pd_bf16*)db, dd, dt);
    good = pd_gpu::check_launch("probe kernel") && pd_gpu::synchronize() && pd_gpu::copy_d2h(d.data(), dd, 512) &&
           pd_gpu::copy_d2h(&total, dt, 4);
  }
  pd_gpu::device_free(mem);
  if (!good) {
    *why = "the CUDA kernels cannot run on this GPU: " + pd_gpu::last_error();
    return false;
  }
  double expect_total = 0;
  for (int m = 0; m < 16; m++)
    for (int n = 0; n < 8; n++) {
      float e = 0;
      for (int k = 0; k < 16; k++) e += af[m * 16 + k] * bf[n * 16 + k];
      expect_total += e;
      if (std::fabs(d[m * 8 + n] - e) > 1e-3f) {
        char msg[160];
        std::snprintf(msg, sizeof msg, "tensor-core probe: D[%d][%d] = %g, expected %g", m, n, d[m * 8 + n], e);
        *why = msg;
        return false;
      }
    }
  if (std::fabs(total - expect_total) > 1e-2) {
    *why = "warp reduction probe gave a wrong sum";
    return false;
  }
  probe_wgmma();
  return true;
}

}  // namespace pd_cuda
