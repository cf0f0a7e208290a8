// Tiny test harness for the native tests: CHECK macros that count failures, a skip exit code
// ctest understands (77), and the test-data root from argv[1] (or $PADDOCK_TESTDATA).
#pragma once

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/stat.h>

namespace pdtest {

inline int& failures() {
  static int n = 0;
  return n;
}
inline int& checks() {
  static int n = 0;
  return n;
}

constexpr int kSkip = 77;

inline std::string testdata_root(int argc, char** argv) {
  if (argc > 1 && argv[1][0]) return argv[1];
  const char* env = std::getenv("PADDOCK_TESTDATA");
  return env ? env : "";
}

inline bool file_exists(const std::string& p) {
  struct stat st;
  return !p.empty() && stat(p.c_str(), &st) == 0;
}

inline int finish(const char* name) {
  if (failures()) {
    std::printf("%s: %d of %d checks FAILED\n", name, failures(), checks());
    return 1;
  }
  std::printf("%s: all %d checks passed\n", name, checks());
  return 0;
}

}  // namespace pdtest

#define CHECK(cond)                                                                 \
  do {                                                                              \
    pdtest::checks()++;                                                             \
    if (!(cond)) {                                                                  \
      pdtest::failures()++;                                                         \
      std::printf("CHECK failed at %s:%d: %s\n", __FILE__, __LINE__, #cond);        \
    }                                                                               \
  } while (0)

#define CHECK_MSG(cond, ...)                                                        \
  do {                                                                              \
    pdtest::checks()++;                                                             \
    if (!(cond)) {                                                                  \
      pdtest::failures()++;                                                         \
      std::printf("CHECK failed at %s:%d: %s: ", __FILE__, __LINE__, #cond);        \
      std::printf(__VA_ARGS__);                                                     \
      std::printf("\n");                                                            \
    }                                                                               \
  } while (0)

#define CHECK_OK(expr)                                                              \
  do {                                                                              \
    ::paddock::Status s_ = (expr);                                                  \
    CHECK_MSG(s_.ok(), "%s", s_.to_string().c_str());                               \
  } while (0)
