#include "io/mapped_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#if defined(_WIN32)
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#else
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace paddock {

#if defined(_WIN32)
static std::wstring widen(const std::string& s) {
  int n = MultiByteToWideChar(CP_UTF8, 0, s.c_str(), (int)s.size(), nullptr, 0);
  std::wstring w((size_t)n, L'\0');
  MultiByteToWideChar(CP_UTF8, 0, s.c_str(), (int)s.size(), &w[0], n);
  return w;
}

Status MappedFile::open(const std::string& path, std::shared_ptr<MappedFile>* out) {
  HANDLE f = CreateFileW(widen(path).c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_DELETE, nullptr,
                         OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (f == INVALID_HANDLE_VALUE) return PD_ERROR(IO, "cannot open %s (Windows error %lu)", path.c_str(), GetLastError());
  LARGE_INTEGER size;
  if (!GetFileSizeEx(f, &size)) {
    CloseHandle(f);
    return PD_ERROR(IO, "cannot read the size of %s", path.c_str());
  }
  if (size.QuadPart == 0) {
    CloseHandle(f);
    return PD_ERROR(BadModelFile, "%s is empty (0 bytes)", path.c_str());
  }
  HANDLE m = CreateFileMappingW(f, nullptr, PAGE_READONLY, 0, 0, nullptr);
  CloseHandle(f);
  if (!m) return PD_ERROR(IO, "cannot map %s (Windows error %lu)", path.c_str(), GetLastError());
  void* p = MapViewOfFile(m, FILE_MAP_READ, 0, 0, 0);
  if (!p) {
    CloseHandle(m);
    return PD_ERROR(IO, "cannot map %s (Windows error %lu)", path.c_str(), GetLastError());
  }
  std::shared_ptr<MappedFile> mf(new MappedFile());
  mf->path_ = path;
  mf->data_ = (const uint8_t*)p;
  mf->size_ = (size_t)size.QuadPart;
  mf->mapping_ = m;
  *out = std::move(mf);
  return Status();
}

MappedFile::~MappedFile() {
  if (data_) UnmapViewOfFile(data_);
  if (mapping_) CloseHandle((HANDLE)mapping_);
}
#else
Status MappedFile::open(const std::string& path, std::shared_ptr<MappedFile>* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return PD_ERROR(IO, "cannot open %s: %s", path.c_str(), std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    return PD_ERROR(IO, "cannot stat %s: %s", path.c_str(), std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return PD_ERROR(IO, "%s is not a regular file", path.c_str());
  }
  if (st.st_size == 0) {
    ::close(fd);
    return PD_ERROR(BadModelFile, "%s is empty (0 bytes)", path.c_str());
  }
  void* p = mmap(nullptr, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  int e = errno;
  ::close(fd);  // the mapping keeps the file open
  if (p == MAP_FAILED) return PD_ERROR(IO, "cannot map %s: %s", path.c_str(), std::strerror(e));
  std::shared_ptr<MappedFile> mf(new MappedFile());
  mf->path_ = path;
  mf->data_ = (const uint8_t*)p;
  mf->size_ = (size_t)st.st_size;
  *out = std::move(mf);
  return Status();
}

MappedFile::~MappedFile() {
  if (data_) munmap((void*)data_, size_);
}
#endif

Status read_file(const std::string& path, std::string* out) {
  std::shared_ptr<MappedFile> f;
  PD_TRY(MappedFile::open(path, &f));
  out->assign((const char*)f->data(), f->size());
  return Status();
}

}  // namespace paddock
