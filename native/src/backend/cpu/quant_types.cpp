// The type table: block geometry and names of the formats in quant_blocks.h.
#include "quant_blocks.h"

namespace paddock::quant {

namespace {
// vec_dot_type is the activation format each weight type is multiplied against, as in ggml.
const QuantTypeInfo kTypes[] = {
    {QuantType::F32, "f32", 1, 4, false, QuantType::F32},
    {QuantType::F16, "f16", 1, 2, false, QuantType::F32},
    {QuantType::Q4_0, "q4_0", QK, sizeof(block_q4_0), true, QuantType::Q8_0},
    {QuantType::Q4_1, "q4_1", QK, sizeof(block_q4_1), true, QuantType::Q8_1},
    {QuantType::Q8_0, "q8_0", QK, sizeof(block_q8_0), true, QuantType::Q8_0},
    {QuantType::Q8_1, "q8_1", QK, sizeof(block_q8_1), true, QuantType::Q8_1},
    {QuantType::Q4_K, "q4_K", QK_K, sizeof(block_q4_K), true, QuantType::Q8_K},
    {QuantType::Q5_K, "q5_K", QK_K, sizeof(block_q5_K), true, QuantType::Q8_K},
    {QuantType::Q6_K, "q6_K", QK_K, sizeof(block_q6_K), true, QuantType::Q8_K},
    {QuantType::Q8_K, "q8_K", QK_K, sizeof(block_q8_K), true, QuantType::Q8_K},
};
}  // namespace

const QuantTypeInfo* quant_type_info(QuantType t) {
  for (const QuantTypeInfo& info : kTypes)
    if (info.type == t) return &info;
  return nullptr;
}

const QuantTypeInfo* quant_type_info(int ggml_type_id) {
  return quant_type_info(static_cast<QuantType>(ggml_type_id));
}

size_t quant_row_size(QuantType t, int64_t n) {
  const QuantTypeInfo* info = quant_type_info(t);
  if (!info || n < 0 || n % info->block_size != 0) return 0;
  return size_t(n / info->block_size) * info->type_size;
}

}  // namespace paddock::quant
