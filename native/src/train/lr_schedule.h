// Learning-rate schedules: constant, linear decay, cosine decay, each after a linear warmup and
// ending at final_ratio * peak (LLaMA's cosine ends at 10%).
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace paddock {

enum class ScheduleKind { Constant, Linear, Cosine };

struct ScheduleConfig {
  ScheduleKind kind = ScheduleKind::Constant;
  int64_t warmup_steps = 0;
  int64_t total_steps = 0;   // decay reaches final_ratio here (linear/cosine need it > 0)
  float final_ratio = 0.0f;  // floor of the decay as a fraction of the peak (LLaMA: 0.1)
};

// "constant" | "linear" | "cosine"; INVALID_ARGUMENT naming anything else.
Status parse_schedule_kind(const std::string& s, ScheduleKind* out);
const char* schedule_kind_name(ScheduleKind k);

// INVALID_ARGUMENT naming the field: warmup_steps >= 0, final_ratio in [0, 1], and
// total_steps > warmup_steps for linear and cosine.
Status check_schedule(const ScheduleConfig& s);

// The learning rate of step `step` (0-based): warmup from peak/warmup_steps up to peak over
// warmup_steps, then the decay from peak to final_ratio * peak at total_steps (held after).
double lr_at(const ScheduleConfig& s, double peak, int64_t step);

}  // namespace paddock
