#include "backend/cpu/cpu_features.h"

#include <cstdlib>
#include <cstring>

#if (defined(__x86_64__) || defined(_M_X64)) && defined(_MSC_VER)
#include <intrin.h>
#define PADDOCK_CPUID_X86 1
#elif defined(__x86_64__)
#include <cpuid.h>
#define PADDOCK_CPUID_X86 1
#endif

namespace paddock {

#if defined(PADDOCK_CPUID_X86)
static void cpuid(int leaf, int sub, unsigned r[4]) {
#if defined(_MSC_VER)
  int v[4];
  __cpuidex(v, leaf, sub);
  for (int i = 0; i < 4; i++) r[i] = unsigned(v[i]);
#else
  __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
#endif
}

static unsigned long long xcr0() {
#if defined(_MSC_VER)
  return _xgetbv(0);
#else
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return ((unsigned long long)hi << 32) | lo;
#endif
}

static CpuFeatures detect() {
  CpuFeatures f;
  unsigned r[4];
  cpuid(0, 0, r);
  if (r[0] < 7) return f;
  cpuid(1, 0, r);
  const unsigned ecx1 = r[2];
  const bool fma = ecx1 & (1u << 12), osxsave = ecx1 & (1u << 27), avx = ecx1 & (1u << 28), f16c = ecx1 & (1u << 29);
  if (!(fma && osxsave && avx && f16c)) return f;
  const unsigned long long xcr = xcr0();
  if ((xcr & 0x6) != 0x6) return f;  // XMM and YMM state
  unsigned r7[4], r71[4];
  cpuid(7, 0, r7);
  cpuid(7, 1, r71);
  const unsigned ebx = r7[1], ecx = r7[2];
  f.avx2 = ebx & (1u << 5);
  const bool zmm_state = (xcr & 0xe6) == 0xe6;  // opmask, ZMM_Hi256, Hi16_ZMM as well
  const bool f512 = ebx & (1u << 16), dq = ebx & (1u << 17), bw = ebx & (1u << 30), vl = ebx & (1u << 31);
  f.avx512 = f.avx2 && zmm_state && f512 && dq && bw && vl;
  f.avx512_vnni = f.avx512 && (ecx & (1u << 11));
  f.avx512_bf16 = f.avx512 && (r71[0] & (1u << 5));
  return f;
}
#else
static CpuFeatures detect() { return CpuFeatures(); }
#endif

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = [] {
    CpuFeatures f = detect();
#if !defined(PADDOCK_HAVE_AVX2_TU)
    f.avx2 = false;
#endif
#if !defined(PADDOCK_HAVE_AVX512_TU)
    f.avx512 = false;
#endif
    const char* env = std::getenv("PADDOCK_CPU_ISA");
    if (env && (std::strcmp(env, "scalar") == 0 || std::strcmp(env, "avx2") == 0)) f.avx512 = false;
    if (env && std::strcmp(env, "scalar") == 0) f.avx2 = false;
    if (!f.avx512) f.avx512_vnni = f.avx512_bf16 = false;
    if (!f.avx2) f.avx512 = false;
    return f;
  }();
  return features;
}

}  // namespace paddock
