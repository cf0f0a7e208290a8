#include "core/status.h"

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <vector>

namespace paddock {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::Ok: return "OK";
    case ErrorCode::BadModelFile: return "BAD_MODEL_FILE";
    case ErrorCode::IO: return "IO";
    case ErrorCode::Unsupported: return "UNSUPPORTED";
    case ErrorCode::OutOfMemory: return "OUT_OF_MEMORY";
    case ErrorCode::InvalidArgument: return "INVALID_ARGUMENT";
    case ErrorCode::Internal: return "INTERNAL";
  }
  return "INTERNAL";
}

std::string Status::to_string() const {
  if (ok()) return "OK";
  return strprintf("%s: %s [%s:%d]", error_code_name(code_), message_.c_str(), file_, line_);
}

static std::string vformat(const char* fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  char small[256];
  int n = std::vsnprintf(small, sizeof small, fmt, ap);
  std::string out;
  if (n < 0) {
    out = fmt;  // formatting failed: keep the template rather than nothing
  } else if (n < (int)sizeof small) {
    out.assign(small, (size_t)n);
  } else {
    std::vector<char> big((size_t)n + 1);
    std::vsnprintf(big.data(), big.size(), fmt, ap2);
    out.assign(big.data(), (size_t)n);
  }
  va_end(ap2);
  return out;
}

std::string strprintf(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::string s = vformat(fmt, ap);
  va_end(ap);
  return s;
}

// __FILE__ is an absolute build path; keep the part from "src/" on so messages stay short.
static const char* trim_source_path(const char* file) {
  const char* best = file;
  for (const char* p = file; (p = std::strstr(p, "src/")) != nullptr; ++p) best = p + 4;
  return best;
}

Status make_error(ErrorCode code, const char* file, int line, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::string msg = vformat(fmt, ap);
  va_end(ap);
  return Status(code, std::move(msg), trim_source_path(file), line);
}

}  // namespace paddock
