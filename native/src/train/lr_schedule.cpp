#include "train/lr_schedule.h"

#include <algorithm>
#include <cmath>

namespace paddock {

Status parse_schedule_kind(const std::string& s, ScheduleKind* out) {
  for (ScheduleKind k : {ScheduleKind::Constant, ScheduleKind::Linear, ScheduleKind::Cosine})
    if (s == schedule_kind_name(k)) {
      *out = k;
      return Status();
    }
  return PD_ERROR(InvalidArgument, "unknown learning-rate schedule '%s' (expected constant, linear or cosine)",
                  s.c_str());
}

const char* schedule_kind_name(ScheduleKind k) {
  switch (k) {
    case ScheduleKind::Constant: return "constant";
    case ScheduleKind::Linear: return "linear";
    case ScheduleKind::Cosine: return "cosine";
  }
  return "constant";
}

Status check_schedule(const ScheduleConfig& s) {
  if (s.warmup_steps < 0) return PD_ERROR(InvalidArgument, "warmup steps must be >= 0, got %lld", (long long)s.warmup_steps);
  if (!(s.final_ratio >= 0.0f && s.final_ratio <= 1.0f))
    return PD_ERROR(InvalidArgument, "schedule final ratio must be in [0, 1], got %g", (double)s.final_ratio);
  if (s.kind != ScheduleKind::Constant && s.total_steps <= s.warmup_steps)
    return PD_ERROR(InvalidArgument, "a %s schedule needs total steps (%lld) above the warmup steps (%lld)",
                    schedule_kind_name(s.kind), (long long)s.total_steps, (long long)s.warmup_steps);
  return Status();
}

double lr_at(const ScheduleConfig& s, double peak, int64_t step) {
  if (step < 0) step = 0;
  // Warmup: step 0 already trains (at peak / warmup), and step warmup-1 reaches the peak.
  if (step < s.warmup_steps) return peak * (double)(step + 1) / (double)s.warmup_steps;
  if (s.kind == ScheduleKind::Constant) return peak;
  const int64_t span = s.total_steps - s.warmup_steps;
  const double progress = span > 0 ? std::min(1.0, (double)(step - s.warmup_steps) / (double)span) : 1.0;
  const double floor = (double)s.final_ratio;
  const double kPi = 3.14159265358979323846;
  const double factor = s.kind == ScheduleKind::Linear ? 1.0 - (1.0 - floor) * progress
                                                       : floor + (1.0 - floor) * 0.5 * (1.0 + std::cos(kPi * progress));
  return peak * factor;
}

}  // namespace paddock
