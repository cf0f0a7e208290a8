// SwiGLU on the device: h = silu(g) * u and its backward (backend/cpu/ops_grad.h swiglu_forward /
// swiglu_backward, same arithmetic: silu(g) = g * (1 / (1 + exp(-g)))). Element-wise, memory
// bound: grid-stride over 16-byte accesses (pointwise_common.cuh launch_pointwise).
#include "backend/cuda/pointwise_common.cuh"
#include "backend/cuda/pointwise_ops.h"

namespace pd_cuda {
namespace {

using pointwise::load;
using pointwise::store;

template <class Out>
struct SwigluForward {
  const float* g;
  const float* u;
  Out* h;
  template <int W>
  __device__ __forceinline__ void apply(int64_t i) const {
    float gv[W], uv[W], o[W];
    load<W>(g + i, gv);
    load<W>(u + i, uv);
    for (int k = 0; k < W; k++) {
      float v = gv[k];
      v *= 1.0f / (1.0f + expf(-v));
      o[k] = v * uv[k];
    }
    store<W>(h + i, o);
  }
};

// dg and du may alias dh, g or u (each element is read before it is written, by one thread).
struct SwigluBackward {
  const float* dh;
  const float* g;
  const float* u;
  float* dg;
  float* du;
  template <int W>
  __device__ __forceinline__ void apply(int64_t i) const {
    float d[W], gv[W], uv[W], dgv[W], duv[W];
    load<W>(dh + i, d);
    load<W>(g + i, gv);
    load<W>(u + i, uv);
    for (int k = 0; k < W; k++) {
      const float sg = 1.0f / (1.0f + expf(-gv[k]));
      duv[k] = d[k] * (gv[k] * sg);
      dgv[k] = d[k] * uv[k] * (sg * (1.0f + gv[k] * (1.0f - sg)));  // silu'(g) = s (1 + g (1 - s))
    }
    store<W>(dg + i, dgv);
    store<W>(du + i, duv);
  }
};

}  // namespace

void swiglu_forward(const float* g, const float* u, int64_t n, Elem out_type, void* h, pd_stream_t s) {
  const bool vec4 = pointwise::all_aligned16(g, u, (const char*)h);
  if (out_type == Elem::F32)
    pointwise::launch_pointwise(SwigluForward<float>{g, u, (float*)h}, n, vec4, s);
  else if (out_type == Elem::BF16)
    pointwise::launch_pointwise(SwigluForward<pd_bf16>{g, u, (pd_bf16*)h}, n, vec4, s);
  else
    pointwise::launch_pointwise(SwigluForward<pd_half>{g, u, (pd_half*)h}, n, vec4, s);
}

void swiglu_backward(const float* dh, const float* g, const float* u, int64_t n, float* dg, float* du,
                     pd_stream_t s) {
  const bool vec4 = pointwise::all_aligned16(dh, g, u, dg, du);
  pointwise::launch_pointwise(SwigluBackward{dh, g, u, dg, du}, n, vec4, s);
}

}  // namespace pd_cuda
