#include "io/atomic_file.h"

#include <cerrno>
#include <cstring>

#if defined(_WIN32)
#include <io.h>
#include <process.h>
#define PD_GETPID _getpid
#else
#include <unistd.h>
#define PD_GETPID getpid
#endif

namespace paddock {

Status write_file_atomically(const std::string& path, const std::function<Status(std::FILE*)>& write) {
  // The pid keeps two processes writing the same path (an app and a CLI run) off each other's temp.
  const std::string tmp = path + ".tmp-" + std::to_string((long long)PD_GETPID());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return PD_ERROR(IO, "cannot create %s: %s", tmp.c_str(), std::strerror(errno));
  Status st = write(f);
  if (st.ok() && std::fflush(f) != 0) st = PD_ERROR(IO, "cannot write %s: %s", tmp.c_str(), std::strerror(errno));
#if !defined(_WIN32)
  if (st.ok() && fsync(fileno(f)) != 0) st = PD_ERROR(IO, "cannot sync %s: %s", tmp.c_str(), std::strerror(errno));
#endif
  if (std::fclose(f) != 0 && st.ok()) st = PD_ERROR(IO, "cannot close %s: %s", tmp.c_str(), std::strerror(errno));
  if (!st.ok()) {
    std::remove(tmp.c_str());
    if (st.code() == ErrorCode::IO) return PD_ERROR(IO, "writing %s failed: %s", path.c_str(), st.message().c_str());
    return st;
  }
#if defined(_WIN32)
  std::remove(path.c_str());  // rename does not replace on Windows
#endif
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    std::remove(tmp.c_str());
    return PD_ERROR(IO, "cannot rename %s to %s: %s", tmp.c_str(), path.c_str(), std::strerror(e));
  }
  return Status();
}

Status write_text_file(const std::string& path, const std::string& text) {
  return write_file_atomically(path, [&](std::FILE* f) {
    if (std::fwrite(text.data(), 1, text.size(), f) != text.size())
      return PD_ERROR(IO, "cannot write %s: %s", path.c_str(), std::strerror(errno));
    return Status();
  });
}

}  // namespace paddock
