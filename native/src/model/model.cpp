#include "model/model.h"

#include <map>

namespace paddock {

void summarize_weights(Model* m) {
  std::map<std::string, uint64_t> by_type;
  uint64_t total = 0;
  for_each_weight(m->weights, [&](const Tensor& t) {
    if (t.empty()) return;
    total += (uint64_t)t.nelements();
    if (t.n_dims >= 2) by_type[dtype_name(t.type)] += (uint64_t)t.nelements();
  });
  m->parameter_count = total;
  uint64_t best = 0;
  for (auto& kv : by_type) {
    if (kv.second > best) {
      best = kv.second;
      m->tensor_type = kv.first;
    }
  }
}

}  // namespace paddock
