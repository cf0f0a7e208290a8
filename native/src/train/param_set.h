// Trainable parameters: named row-major matrices (vectors are one row) with their gradients.
// Names are GGUF tensor names: "blk.0.attn_q.weight" for full fine-tuning, and llama.cpp's LoRA
// adapter names "blk.0.attn_q.weight.lora_a" / ".lora_b" for adapters, so exports and
// checkpoints need no renaming table. R is float in the engine and double in the
// finite-difference and golden tests (the training graph is a template over it).
#pragma once

#include <cstdint>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

namespace paddock {

template <class R>
struct ParamT {
  std::string name;
  int64_t rows = 0, cols = 0;  // [rows, cols] row-major: GGUF ne = {cols, rows}
  std::vector<R> value;        // rows * cols
  std::vector<R> grad;         // same shape; accumulated by backward, cleared by zero_grad()

  int64_t size() const { return rows * cols; }
};

// Stable addresses: params are never moved once added (a deque), so graph code may keep pointers.
template <class R>
class ParamSetT {
 public:
  ParamT<R>& add(const std::string& name, int64_t rows, int64_t cols) {
    params_.emplace_back();
    ParamT<R>& p = params_.back();
    p.name = name;
    p.rows = rows;
    p.cols = cols;
    p.value.assign((size_t)(rows * cols), R(0));
    p.grad.assign((size_t)(rows * cols), R(0));
    return p;
  }
  ParamT<R>* find(const std::string& name) {
    for (ParamT<R>& p : params_)
      if (p.name == name) return &p;
    return nullptr;
  }
  const ParamT<R>* find(const std::string& name) const {
    for (const ParamT<R>& p : params_)
      if (p.name == name) return &p;
    return nullptr;
  }
  void zero_grad() {
    for (ParamT<R>& p : params_) std::fill(p.grad.begin(), p.grad.end(), R(0));
  }
  int64_t total_elements() const {
    int64_t n = 0;
    for (const ParamT<R>& p : params_) n += p.size();
    return n;
  }
  size_t size() const { return params_.size(); }
  ParamT<R>& operator[](size_t i) { return params_[i]; }
  const ParamT<R>& operator[](size_t i) const { return params_[i]; }
  typename std::deque<ParamT<R>>::iterator begin() { return params_.begin(); }
  typename std::deque<ParamT<R>>::iterator end() { return params_.end(); }
  typename std::deque<ParamT<R>>::const_iterator begin() const { return params_.begin(); }
  typename std::deque<ParamT<R>>::const_iterator end() const { return params_.end(); }

 private:
  std::deque<ParamT<R>> params_;
};

using Param = ParamT<float>;
using ParamSet = ParamSetT<float>;

}  // namespace paddock
