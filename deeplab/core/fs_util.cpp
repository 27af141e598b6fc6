#include "deeplab/core/fs_util.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "deeplab/core/error.h"

namespace deeplab::core {
namespace {
// Bytes after which the next atomic write "dies"; SIZE_MAX: no injected failure.
std::atomic<size_t> g_fail_after{SIZE_MAX};
}  // namespace

void fail_next_atomic_write_after(size_t bytes) { g_fail_after = bytes; }

void write_file_atomic(const std::string& path, const std::string& content) {
  const std::string temp = path + ".tmp" + std::to_string(::getpid());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw IoError("cannot write '" + temp + "': " + std::strerror(errno));
  const size_t fail_after = g_fail_after.exchange(SIZE_MAX);
  size_t written = 0;
  while (written < content.size()) {
    if (written >= fail_after) {
      ::close(fd);  // a killed process leaves its partial temp file behind
      throw IoError("injected failure while writing '" + temp + "'");
    }
    const size_t chunk = std::min(content.size() - written, std::min<size_t>(fail_after - written, 1 << 20));
    const ssize_t n = ::write(fd, content.data() + written, chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string reason = std::strerror(errno);
      ::close(fd);
      ::unlink(temp.c_str());
      throw IoError("cannot write '" + temp + "': " + reason);
    }
    written += static_cast<size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced || ::rename(temp.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    ::unlink(temp.c_str());
    throw IoError("cannot replace '" + path + "': " + reason);
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open '" + path + "'");
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

}  // namespace deeplab::core
