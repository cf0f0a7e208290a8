// The trained parameters of a GPU training run: F32 master values, F32 gradients and the two
// AdamW moments, each one contiguous device array with every parameter at an aligned offset,
// plus a BF16 mirror of the values that the tensor-core products read (refreshed after every
// upload and update). One array per kind makes zero_grad one memset, the gradient norm one
// deterministic sum_squares and the optimizer step one fused adamw_update over all parameters.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backend/cuda/cuda_train_memory.h"
#include "backend/cuda/cuda_types.h"
#include "train/adamw.h"
#include "train/param_set.h"

namespace paddock {

class DeviceParams {
 public:
  struct Entry {
    std::string name;
    int64_t rows = 0, cols = 0;
    int64_t offset = 0;  // elements from the start of every array
  };

  // Lays out and allocates for the parameters of `params` (names and shapes), all zero.
  Status init(const ParamSet& params, DeviceAllocations* mem, pd_stream_t s);
  // Values and moments host -> device (shapes must match init's); state.t is kept as t().
  Status upload(const ParamSet& params, const AdamWState& state, pd_stream_t s);
  Status download(ParamSet* params, AdamWState* state, pd_stream_t s) const;

  Status zero_grad(pd_stream_t s);
  Status grad_norm(double* norm, pd_stream_t s);
  // Gradients times clip_factor, then AdamW at lr with bias correction for step t (1-based).
  Status adamw_step(double clip_factor, const AdamWConfig& c, double lr, int64_t t, pd_stream_t s);

  int index_of(const std::string& name) const;  // -1 when absent
  const Entry& entry(int i) const { return entries_[(size_t)i]; }
  float* value(int i) const { return value_ + entries_[(size_t)i].offset; }
  float* grad(int i) const { return grad_ + entries_[(size_t)i].offset; }
  const pd_bf16* value_bf16(int i) const { return bf16_ + entries_[(size_t)i].offset; }
  int64_t t() const { return t_; }

 private:
  Status refresh_bf16(pd_stream_t s);

  std::vector<Entry> entries_;
  int64_t total_ = 0;
  float *value_ = nullptr, *grad_ = nullptr, *m_ = nullptr, *v_ = nullptr;
  pd_bf16* bf16_ = nullptr;
  double* norm_ = nullptr;  // sum_squares' device result
  int64_t t_ = 0;
};

}  // namespace paddock
