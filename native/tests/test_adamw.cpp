// AdamW, gradient clipping and learning-rate schedules against hand-derived values.
// The AdamW reference values come from the textbook formulas (decoupled decay, then
// p -= lr * m_hat / (sqrt(v_hat) + eps), m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t)) evaluated
// in Python float64; step 1 is also checkable by hand: m_hat = g, v_hat = g^2, so
// p1 = p0 (1 - lr wd) - lr g / (|g| + eps), e.g. 1 * 0.999 - 0.1 * 0.1 / (0.1 + 1e-8) = 0.899000009999999.
// The implementation uses torch's algebraically equal form (sqrt(v) / sqrt(bc2) + eps), so
// double results agree to rounding: tolerance 1e-14 relative.
#include <cmath>
#include <cstring>

#include "backend/cpu/threadpool.h"
#include "testing.h"
#include "train/adamw.h"
#include "train/lr_schedule.h"

using namespace paddock;

static bool close_rel(double a, double b, double tol) { return std::fabs(a - b) <= tol * std::max(1.0, std::fabs(b)); }

template <class R>
static void set_grads(ParamSetT<R>* ps, const std::vector<std::vector<double>>& g) {
  for (size_t k = 0; k < ps->size(); k++)
    for (size_t i = 0; i < g[k].size(); i++) (*ps)[k].grad[i] = (R)g[k][i];
}

static void test_adamw_three_steps() {
  ParamSetT<double> ps;
  ParamT<double>& a = ps.add("a", 1, 3);
  ParamT<double>& b = ps.add("b", 1, 1);
  a.value = {1.0, -2.0, 0.0};
  b.value = {0.5};
  AdamWStateT<double> st;
  st.init(ps);
  AdamWConfig c;
  c.lr = 0.1, c.weight_decay = 0.01, c.beta1 = 0.9, c.beta2 = 0.999, c.eps = 1e-8;
  const std::vector<std::vector<std::vector<double>>> grads = {
      {{0.1, -0.3, 0.0}, {2.0}}, {{0.2, 0.1, 0.0}, {-1.0}}, {{-0.05, 0.4, 1e-3}, {0.5}}};
  // Expected (a0, a1, a2, b0) after each step.
  const double expected[3][4] = {
      {0.899000009999999, -1.8980000033333333, 0.0, 0.3995000005},
      {0.801582813511253, -1.8560801479247475, 0.0, 0.37246679670193156},
      {0.7419205618746025, -1.8851799428181453, -0.06388025405456842, 0.33805141534174077},
  };
  for (int s = 0; s < 3; s++) {
    set_grads(&ps, grads[(size_t)s]);
    adamw_step(&ps, &st, c, c.lr, nullptr);
    CHECK(st.t == s + 1);
    for (int i = 0; i < 3; i++)
      CHECK_MSG(close_rel(a.value[(size_t)i], expected[s][i], 1e-14), "step %d a[%d] = %.17g, expected %.17g", s + 1,
                i, a.value[(size_t)i], expected[s][i]);
    CHECK_MSG(close_rel(b.value[0], expected[s][3], 1e-14), "step %d b = %.17g, expected %.17g", s + 1, b.value[0],
              expected[s][3]);
  }
  // Moments after three steps (m = 0.0211 for a0, v = 0.005241004 for b0): the state is what resumes.
  CHECK(close_rel(st.m[0][0], 0.0211, 1e-14));
  CHECK(close_rel(st.v[1][0], 0.005241004000000005, 1e-14));
  // A gradient that stays exactly 0 leaves the moments 0 and only decays the weight (a2 was 0).
  CHECK(st.m[0][2] != 0.0 && a.value[2] < 0.0);

  // The same run in float stays within float rounding of the double one (~1e-7 relative per step).
  ParamSetT<float> pf;
  pf.add("a", 1, 3).value = {1.0f, -2.0f, 0.0f};
  pf.add("b", 1, 1).value = {0.5f};
  AdamWStateT<float> sf;
  sf.init(pf);
  for (int s = 0; s < 3; s++) {
    set_grads(&pf, grads[(size_t)s]);
    adamw_step(&pf, &sf, c, c.lr, nullptr);
  }
  for (int i = 0; i < 3; i++) CHECK(close_rel(pf[0].value[(size_t)i], expected[2][i], 1e-6));
  CHECK(close_rel(pf[1].value[0], expected[2][3], 1e-6));
}

static void test_clipping() {
  ParamSetT<double> ps;
  ps.add("x", 1, 1).grad = {3.0};
  ps.add("y", 2, 1).grad = {0.0, 4.0};
  const double norm = grad_global_norm(ps);
  CHECK(norm == 5.0);
  clip_grads(&ps, norm, 10.0);  // factor 10 / 5 >= 1: untouched
  CHECK(ps[0].grad[0] == 3.0 && ps[1].grad[1] == 4.0);
  clip_grads(&ps, norm, 0.0);  // 0: clipping off
  CHECK(ps[0].grad[0] == 3.0);
  clip_grads(&ps, norm, 1.0);  // clip_grad_norm_: factor max_norm / (norm + 1e-6)
  const double coef = 1.0 / (5.0 + 1e-6);
  CHECK(ps[0].grad[0] == 3.0 * coef && ps[1].grad[1] == 4.0 * coef && ps[1].grad[0] == 0.0);
  CHECK(close_rel(grad_global_norm(ps), 5.0 / (5.0 + 1e-6), 1e-15));
}

// A set big enough to run on the pool: norm, clipping and the update give the same bits with
// 1 thread, 2 threads and no pool (fixed blocks, element-wise updates).
static void test_parallel_is_bitwise() {
  auto make = [](ParamSet* ps) {
    const int64_t shapes[3][2] = {{300, 257}, {1, 64}, {513, 129}};
    uint32_t s = 12345;
    for (int k = 0; k < 3; k++) {
      Param& p = ps->add("p" + std::to_string(k), shapes[k][0], shapes[k][1]);
      for (int64_t i = 0; i < p.size(); i++) {
        s = s * 1664525u + 1013904223u;
        p.value[(size_t)i] = (float)((s >> 8) * (1.0 / 16777216.0) - 0.5);
        s = s * 1664525u + 1013904223u;
        p.grad[(size_t)i] = (float)((s >> 8) * (1.0 / 16777216.0) - 0.5) * 1e-2f;
      }
    }
  };
  AdamWConfig c;
  c.weight_decay = 0.1;
  ParamSet ref;
  make(&ref);
  CHECK(ref.total_elements() > (1 << 16));
  AdamWState sref;
  sref.init(ref);
  const double nref = grad_global_norm(ref);
  clip_grads(&ref, nref, 1.0);
  for (int s = 0; s < 3; s++) adamw_step(&ref, &sref, c, 1e-3, nullptr);
  for (int threads : {1, 2}) {
    ThreadPool pool(threads);
    ParamSet ps;
    make(&ps);
    AdamWState st;
    st.init(ps);
    const double n = grad_global_norm(ps, &pool);
    CHECK(std::memcmp(&n, &nref, sizeof n) == 0);
    CHECK(n > 1.0);  // so the clip below really scales
    clip_grads(&ps, n, 1.0, &pool);
    for (int s = 0; s < 3; s++) adamw_step(&ps, &st, c, 1e-3, &pool);
    bool same = true;
    for (size_t k = 0; k < ps.size(); k++) {
      same = same && std::memcmp(ps[k].value.data(), ref[k].value.data(), ps[k].value.size() * 4) == 0;
      same = same && std::memcmp(st.v[k].data(), sref.v[k].data(), st.v[k].size() * 4) == 0;
    }
    CHECK_MSG(same, "%d threads differ from the serial update", threads);
  }
}

static void test_config_checks() {
  AdamWConfig c;
  CHECK_OK(check_adamw_config(c));
  c.beta2 = 1.0;
  CHECK(check_adamw_config(c).code() == ErrorCode::InvalidArgument);
  c = AdamWConfig();
  c.lr = 0;
  CHECK(check_adamw_config(c).code() == ErrorCode::InvalidArgument);
  c = AdamWConfig();
  c.weight_decay = NAN;
  CHECK(check_adamw_config(c).code() == ErrorCode::InvalidArgument);
}

static void test_schedules() {
  // Exact decimal expectations up to double rounding: tolerance 1e-12.
  ScheduleConfig s;
  s.warmup_steps = 10;
  s.total_steps = 110;
  s.final_ratio = 0.1f;
  const double peak = 2.0, fr = (double)0.1f;
  for (ScheduleKind k : {ScheduleKind::Constant, ScheduleKind::Linear, ScheduleKind::Cosine}) {
    s.kind = k;
    CHECK_OK(check_schedule(s));
    CHECK(close_rel(lr_at(s, peak, 0), peak / 10, 1e-12));       // warmup start: peak / warmup
    CHECK(close_rel(lr_at(s, peak, 4), peak * 5 / 10, 1e-12));   // linear ramp
    CHECK(close_rel(lr_at(s, peak, 9), peak, 1e-12));            // warmup end: peak
    CHECK(close_rel(lr_at(s, peak, 10), peak, 1e-12));           // decay starts at the peak
  }
  s.kind = ScheduleKind::Constant;
  CHECK(lr_at(s, peak, 60) == peak && lr_at(s, peak, 100000) == peak);
  s.kind = ScheduleKind::Cosine;
  CHECK(close_rel(lr_at(s, peak, 60), (peak + fr * peak) / 2, 1e-12));  // middle: (peak + floor) / 2
  CHECK(close_rel(lr_at(s, peak, 35), peak * (fr + (1 - fr) * 0.5 * (1 + std::sqrt(0.5))), 1e-12));
  CHECK(close_rel(lr_at(s, peak, 110), fr * peak, 1e-12));  // end: final_ratio * peak
  CHECK(close_rel(lr_at(s, peak, 500), fr * peak, 1e-12));  // held after the end
  s.kind = ScheduleKind::Linear;
  CHECK(close_rel(lr_at(s, peak, 60), (peak + fr * peak) / 2, 1e-12));  // midpoint
  CHECK(close_rel(lr_at(s, peak, 35), peak * (1 - (1 - fr) * 0.25), 1e-12));
  CHECK(close_rel(lr_at(s, peak, 110), fr * peak, 1e-12));
  // No warmup: step 0 is the peak; cosine to 0 ends at exactly 0.
  s.warmup_steps = 0;
  s.final_ratio = 0.0f;
  s.kind = ScheduleKind::Cosine;
  CHECK(lr_at(s, peak, 0) == peak);
  CHECK(std::fabs(lr_at(s, peak, 110)) < 1e-15);

  ScheduleKind k;
  CHECK_OK(parse_schedule_kind("cosine", &k));
  CHECK(k == ScheduleKind::Cosine);
  CHECK_OK(parse_schedule_kind("linear", &k));
  CHECK(k == ScheduleKind::Linear && std::strcmp(schedule_kind_name(k), "linear") == 0);
  Status bad = parse_schedule_kind("cosin", &k);
  CHECK(bad.code() == ErrorCode::InvalidArgument && bad.message().find("cosin") != std::string::npos);
  ScheduleConfig b;
  b.kind = ScheduleKind::Cosine;  // total_steps 0
  CHECK(check_schedule(b).code() == ErrorCode::InvalidArgument);
  b.kind = ScheduleKind::Constant;
  b.final_ratio = 1.5f;
  CHECK(check_schedule(b).code() == ErrorCode::InvalidArgument);
}

int main() {
  test_adamw_three_steps();
  test_clipping();
  test_parallel_is_bitwise();
  test_config_checks();
  test_schedules();
  return pdtest::finish("test_adamw");
}
