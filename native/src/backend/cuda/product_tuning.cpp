#include "backend/cuda/product_tuning.h"

#include <algorithm>

namespace paddock {

ProductTuning& product_tuning() {
  static ProductTuning tuning;
  return tuning;
}

int64_t weight_slab_rows(int64_t rows, int64_t cols, int64_t slab_elements) {
  const int64_t fit = slab_elements / std::max<int64_t>(cols, 1);
  const int64_t align = fit >= 128 ? 128 : 8;
  return std::min(rows, std::max<int64_t>(8, fit / align * align));
}

}  // namespace paddock
