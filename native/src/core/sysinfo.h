// What the machine has: CPU name, memory, a sensible default thread count.
#pragma once

#include <cstdint>
#include <string>

namespace paddock {

std::string cpu_model_name();     // "/proc/cpuinfo model name", or "CPU"
uint64_t total_memory_bytes();    // physical RAM, 0 if unknown
int default_thread_count();       // hardware threads, clamped to [1, 16]

}  // namespace paddock
