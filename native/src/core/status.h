// Errors are values: every fallible function returns a Status (code + message + where it was
// made). The binding turns a failed Status into a JS Error with `code`; nothing below binding/
// throws on purpose, calls exit() or abort(). Messages name the file, what was expected and what
// was found, because they are shown to users as is.
#pragma once

#include <string>

namespace paddock {

enum class ErrorCode {
  Ok = 0,
  BadModelFile,     // the file is not what it claims to be (corrupt, truncated, inconsistent)
  IO,               // the OS refused (open, read, write, rename)
  Unsupported,      // a valid file or request this build cannot run (type, architecture)
  OutOfMemory,
  InvalidArgument,  // the caller asked for something impossible (bad token id, context overflow)
  Internal,         // a bug in Paddock
};

// The stable JS-facing name: "BAD_MODEL_FILE", "IO", ...
const char* error_code_name(ErrorCode code);

class Status {
 public:
  Status() = default;  // OK
  Status(ErrorCode code, std::string message, const char* file, int line)
      : code_(code), message_(std::move(message)), file_(file), line_(line) {}

  bool ok() const { return code_ == ErrorCode::Ok; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const char* file() const { return file_; }  // source file that made the error (trimmed)
  int line() const { return line_; }
  // "BAD_MODEL_FILE: <message> [io/gguf_reader.cpp:123]" for logs and tests.
  std::string to_string() const;

 private:
  ErrorCode code_ = ErrorCode::Ok;
  std::string message_;
  const char* file_ = "";
  int line_ = 0;
};

#if defined(__GNUC__)
#define PD_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define PD_PRINTF(a, b)
#endif

std::string strprintf(const char* fmt, ...) PD_PRINTF(1, 2);
Status make_error(ErrorCode code, const char* file, int line, const char* fmt, ...) PD_PRINTF(4, 5);

}  // namespace paddock

// PD_ERROR(BadModelFile, "%s: expected ..., found ...", path) -> Status
#define PD_ERROR(code, ...) ::paddock::make_error(::paddock::ErrorCode::code, __FILE__, __LINE__, __VA_ARGS__)
// Returns early from a Status-returning function when `expr` fails.
#define PD_TRY(expr)                            \
  do {                                          \
    ::paddock::Status pd_status_ = (expr);      \
    if (!pd_status_.ok()) return pd_status_;    \
  } while (0)
