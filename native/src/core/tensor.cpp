#include "core/tensor.h"

namespace paddock {

std::string Tensor::shape_string() const {
  std::string s = "[";
  for (int i = 0; i < n_dims; i++) {
    if (i) s += ", ";
    s += std::to_string(ne[i]);
  }
  return s + "]";
}

Tensor make_tensor(std::string name, DType type, const void* data, int64_t ne0, int64_t ne1) {
  Tensor t;
  t.name = std::move(name);
  t.type = type;
  t.n_dims = ne1 > 0 ? 2 : 1;
  t.ne[0] = ne0;
  t.ne[1] = ne1 > 0 ? ne1 : 1;
  t.data = data;
  size_t row = 0;
  dtype_row_bytes(type, ne0, &row);
  t.nbytes = row * (size_t)t.ne[1];
  return t;
}

}  // namespace paddock
