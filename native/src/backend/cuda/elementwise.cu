// Element-wise F32 arithmetic and type conversions on the device: y += x, x *= a, and
// conversions between F32, BF16 and F16 in any direction (round to nearest even). Memory bound:
// grid-stride over 16-byte accesses (8-byte for 4 two-byte elements), pointwise_common.cuh.
#include "backend/cuda/pointwise_common.cuh"
#include "backend/cuda/pointwise_ops.h"

namespace pd_cuda {
namespace {

using pointwise::load;
using pointwise::store;

struct AddInplace {
  float* y;
  const float* x;
  template <int W>
  __device__ __forceinline__ void apply(int64_t i) const {
    float a[W], b[W];
    load<W>(y + i, a);
    load<W>(x + i, b);
    for (int k = 0; k < W; k++) a[k] += b[k];
    store<W>(y + i, a);
  }
};

struct ScaleInplace {
  float* x;
  float a;
  template <int W>
  __device__ __forceinline__ void apply(int64_t i) const {
    float v[W];
    load<W>(x + i, v);
    for (int k = 0; k < W; k++) v[k] *= a;
    store<W>(x + i, v);
  }
};

template <class From, class To>
struct Convert {
  const From* x;
  To* y;
  template <int W>
  __device__ __forceinline__ void apply(int64_t i) const {
    float v[W];
    load<W>(x + i, v);  // BF16/F16 -> F32 is exact, so F16 <-> BF16 rounds once
    store<W>(y + i, v);
  }
};

template <class From>
void convert_from(const From* x, void* y, Elem to, int64_t n, pd_stream_t s) {
  const bool vec4 = pointwise::all_aligned16(x, (const char*)y);
  if (to == Elem::F32)
    pointwise::launch_pointwise(Convert<From, float>{x, (float*)y}, n, vec4, s);
  else if (to == Elem::BF16)
    pointwise::launch_pointwise(Convert<From, pd_bf16>{x, (pd_bf16*)y}, n, vec4, s);
  else
    pointwise::launch_pointwise(Convert<From, pd_half>{x, (pd_half*)y}, n, vec4, s);
}

}  // namespace

void add_inplace(float* y, const float* x, int64_t n, pd_stream_t s) {
  pointwise::launch_pointwise(AddInplace{y, x}, n, pointwise::all_aligned16(y, x), s);
}

void scale_inplace(float* x, float a, int64_t n, pd_stream_t s) {
  pointwise::launch_pointwise(ScaleInplace{x, a}, n, pointwise::all_aligned16(x), s);
}

void convert(const void* x, Elem from, void* y, Elem to, int64_t n, pd_stream_t s) {
  if (from == Elem::F32)
    convert_from((const float*)x, y, to, n, s);
  else if (from == Elem::BF16)
    convert_from((const pd_bf16*)x, y, to, n, s);
  else
    convert_from((const pd_half*)x, y, to, n, s);
}

}  // namespace pd_cuda
