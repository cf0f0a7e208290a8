// Denormal floats (below ~1.2e-38) make x86 arithmetic ~100x slower; they show up in attention
// when a softmax weight near 0 multiplies a value. Compute threads flush them to zero (FTZ and
// DAZ in MXCSR): a change below 1e-38 in any result, and no slow paths. MXCSR is per thread, so
// the decode caller restores its mode on the way out.
#pragma once

#if defined(__SSE2__) || defined(_M_X64)
#include <xmmintrin.h>
#define PD_HAVE_MXCSR 1
#endif

namespace paddock {

class ScopedFlushDenormals {
 public:
  ScopedFlushDenormals() {
#if defined(PD_HAVE_MXCSR)
    saved_ = _mm_getcsr();
    _mm_setcsr(saved_ | 0x8040u);  // FTZ (bit 15) | DAZ (bit 6)
#endif
  }
  ~ScopedFlushDenormals() {
#if defined(PD_HAVE_MXCSR)
    _mm_setcsr(saved_);
#endif
  }
  ScopedFlushDenormals(const ScopedFlushDenormals&) = delete;
  ScopedFlushDenormals& operator=(const ScopedFlushDenormals&) = delete;

 private:
  unsigned saved_ = 0;
};

}  // namespace paddock
