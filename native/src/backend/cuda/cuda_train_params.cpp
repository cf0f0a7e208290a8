#include "backend/cuda/cuda_train_params.h"

#include <cmath>

#include "backend/cuda/pointwise_ops.h"

namespace paddock {

namespace {

// 64 elements: every parameter starts 256-byte aligned (vector loads in the fused kernels).
constexpr int64_t kAlign = 64;

Status device_error(const char* what) {
  return PD_ERROR(Internal, "GPU training: %s failed: %s", what, pd_gpu::last_error().c_str());
}

}  // namespace

Status DeviceParams::init(const ParamSet& params, DeviceAllocations* mem, pd_stream_t s) {
  entries_.clear();
  total_ = 0;
  for (const Param& p : params) {
    Entry e;
    e.name = p.name;
    e.rows = p.rows;
    e.cols = p.cols;
    e.offset = total_;
    total_ += (p.size() + kAlign - 1) / kAlign * kAlign;
    entries_.push_back(e);
  }
  PD_TRY(mem->alloc(total_, "parameter values", &value_));
  PD_TRY(mem->alloc(total_, "parameter gradients", &grad_));
  PD_TRY(mem->alloc(total_, "AdamW first moments", &m_));
  PD_TRY(mem->alloc(total_, "AdamW second moments", &v_));
  PD_TRY(mem->alloc(total_, "BF16 parameter copies", &bf16_));
  PD_TRY(mem->alloc(1, "gradient norm", &norm_));
  // The padding between parameters must stay zero: the fused kernels run over it.
  for (float* a : {value_, grad_, m_, v_})
    if (!pd_gpu::memset_zero(a, (size_t)total_ * sizeof(float), s)) return device_error("zeroing parameters");
  return refresh_bf16(s);
}

int DeviceParams::index_of(const std::string& name) const {
  for (size_t i = 0; i < entries_.size(); i++)
    if (entries_[i].name == name) return (int)i;
  return -1;
}

Status DeviceParams::upload(const ParamSet& params, const AdamWState& state, pd_stream_t s) {
  if (params.size() != entries_.size())
    return PD_ERROR(InvalidArgument, "GPU training: %zu parameters uploaded, the session holds %zu", params.size(),
                    entries_.size());
  const bool moments = state.m.size() == params.size() && state.v.size() == params.size();
  for (size_t i = 0; i < entries_.size(); i++) {
    const Param& p = params[i];
    const Entry& e = entries_[i];
    if (p.name != e.name || p.rows != e.rows || p.cols != e.cols)
      return PD_ERROR(InvalidArgument, "GPU training: parameter %zu is %s [%lld, %lld], the session holds %s", i,
                      p.name.c_str(), (long long)p.rows, (long long)p.cols, e.name.c_str());
    const size_t bytes = (size_t)p.size() * sizeof(float);
    bool ok = pd_gpu::copy_h2d(value_ + e.offset, p.value.data(), bytes, s);
    if (moments && state.m[i].size() == (size_t)p.size() && state.v[i].size() == (size_t)p.size()) {
      ok = ok && pd_gpu::copy_h2d(m_ + e.offset, state.m[i].data(), bytes, s) &&
           pd_gpu::copy_h2d(v_ + e.offset, state.v[i].data(), bytes, s);
    } else {
      ok = ok && pd_gpu::memset_zero(m_ + e.offset, bytes, s) && pd_gpu::memset_zero(v_ + e.offset, bytes, s);
    }
    if (!ok) return device_error("parameter upload");
  }
  t_ = moments ? state.t : 0;
  return refresh_bf16(s);
}

Status DeviceParams::download(ParamSet* params, AdamWState* state, pd_stream_t s) const {
  if (params->size() != entries_.size())
    return PD_ERROR(InvalidArgument, "GPU training: download into %zu parameters, the session holds %zu",
                    params->size(), entries_.size());
  if (state) {
    state->m.resize(entries_.size());
    state->v.resize(entries_.size());
    state->t = t_;
  }
  for (size_t i = 0; i < entries_.size(); i++) {
    Param& p = (*params)[i];
    const Entry& e = entries_[i];
    if (p.name != e.name || p.rows != e.rows || p.cols != e.cols)
      return PD_ERROR(InvalidArgument, "GPU training: parameter %zu is %s, the session holds %s", i, p.name.c_str(),
                      e.name.c_str());
    const size_t bytes = (size_t)p.size() * sizeof(float);
    bool ok = pd_gpu::copy_d2h(p.value.data(), value_ + e.offset, bytes, s);
    if (state) {
      state->m[i].resize((size_t)p.size());
      state->v[i].resize((size_t)p.size());
      ok = ok && pd_gpu::copy_d2h(state->m[i].data(), m_ + e.offset, bytes, s) &&
           pd_gpu::copy_d2h(state->v[i].data(), v_ + e.offset, bytes, s);
    }
    if (!ok) return device_error("parameter download");
  }
  if (!pd_gpu::synchronize(s)) return device_error("parameter download");
  return Status();
}

Status DeviceParams::zero_grad(pd_stream_t s) {
  if (!pd_gpu::memset_zero(grad_, (size_t)total_ * sizeof(float), s)) return device_error("zero_grad");
  return Status();
}

Status DeviceParams::grad_norm(double* norm, pd_stream_t s) {
  pd_cuda::sum_squares(grad_, total_, norm_, false, s);
  double sq = 0.0;
  if (!pd_gpu::check_launch("sum_squares") || !pd_gpu::copy_d2h(&sq, norm_, sizeof(double), s) ||
      !pd_gpu::synchronize(s))
    return device_error("gradient norm");
  *norm = std::sqrt(sq);
  return Status();
}

Status DeviceParams::adamw_step(double clip_factor, const AdamWConfig& c, double lr, int64_t t, pd_stream_t s) {
  if (t < 1) return PD_ERROR(InvalidArgument, "GPU training: AdamW step count %lld must be >= 1", (long long)t);
  // The host AdamW's constants (train/adamw.cpp), in double as the host has them: 1 - (float)0.999
  // is 1.3e-5 away from 0.001, which the second moment would feel.
  pd_cuda::AdamWArgs a;
  a.lr = lr;
  a.beta1 = c.beta1;
  a.beta2 = c.beta2;
  a.eps = c.eps;
  a.weight_decay = c.weight_decay;
  a.clip_factor = clip_factor;
  a.bias1 = 1.0 - std::pow(c.beta1, (double)t);
  a.bias2 = 1.0 - std::pow(c.beta2, (double)t);
  pd_cuda::adamw_update(value_, grad_, m_, v_, total_, a, s);
  if (!pd_gpu::check_launch("adamw_update")) return device_error("AdamW update");
  t_ = t;
  return refresh_bf16(s);
}

Status DeviceParams::refresh_bf16(pd_stream_t s) {
  pd_cuda::convert(value_, pd_cuda::Elem::F32, bf16_, pd_cuda::Elem::BF16, total_, s);
  if (!pd_gpu::check_launch("convert (BF16 parameter copies)")) return device_error("BF16 parameter refresh");
  return Status();
}

}  // namespace paddock
