// splitmix64 (Steele, Lea, Flood 2014): the one integer mixer behind Paddock's seeds — sampler
// state, LoRA dropout masks, per-step dropout streams, synthetic weights. Bijective, so distinct
// inputs give distinct, well-spread outputs, and the same everywhere (no library RNG involved).
#pragma once

#include <cstdint>

namespace paddock {

// The mix of x + the golden-ratio increment (one output of a splitmix64 generator at state x).
inline uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// The generator form: advances *state and returns the next output.
inline uint64_t splitmix64_next(uint64_t* state) {
  const uint64_t x = *state;
  *state += 0x9E3779B97F4A7C15ull;
  return splitmix64(x);
}

}  // namespace paddock
