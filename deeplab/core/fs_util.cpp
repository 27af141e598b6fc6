#include "deeplab/core/fs_util.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "deeplab/core/error.h"

namespace deeplab::core {
namespace fs = std::filesystem;
namespace {

// The temporary file beside `path` that this process writes first.
std::string temporary_path(const std::string& path) { return path + ".tmp" + std::to_string(::getpid()); }

// Bytes after which the next atomic write "dies"; SIZE_MAX: no injected failure.
std::atomic<size_t> g_fail_after{SIZE_MAX};

// DEEPLAB_FAULT_STOP_IN_WRITE=N (fault tests only): the first atomic write of
// more than N bytes stops the process with SIGSTOP after N bytes, so that a
// test can SIGKILL the real binary in the middle of a real checkpoint write.
std::atomic<bool> g_stopped_in_write{false};
size_t stop_in_write_after() {
  const char* value = std::getenv("DEEPLAB_FAULT_STOP_IN_WRITE");
  if (!value || g_stopped_in_write) return SIZE_MAX;
  return static_cast<size_t>(std::strtoull(value, nullptr, 10));
}

[[noreturn]] void fail_write(const std::string& path, const std::string& temp, int error_number) {
  ::unlink(temp.c_str());
  throw IoError("cannot write '" + path + "': " + std::strerror(error_number) + full_disk_hint(error_number));
}

// Writes all of `content` to `fd`; the errno of a failed write, else 0.
int write_all(int fd, const std::string& content, size_t fail_after, const std::string& temp) {
  const size_t stop_at = stop_in_write_after();  // read once: it consults the environment
  const size_t stop_after = content.size() > stop_at ? stop_at : SIZE_MAX;
  size_t written = 0;
  while (written < content.size()) {
    if (written >= fail_after) {
      ::close(fd);  // a killed process leaves its partial temp file behind
      throw IoError("injected failure while writing '" + temp + "'");
    }
    if (written >= stop_after && !g_stopped_in_write.exchange(true)) ::raise(SIGSTOP);  // the fault test kills us here
    const size_t limit = std::min(fail_after, stop_after);
    const size_t chunk = std::min(content.size() - written, std::min<size_t>(limit - written, 1 << 20));
    const ssize_t n = ::write(fd, content.data() + written, chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    written += static_cast<size_t>(n);
  }
  return 0;
}

}  // namespace

std::string full_disk_hint(int error_number) {
  if (error_number != ENOSPC && error_number != EDQUOT && error_number != EFBIG) return "";
  return " (the disk is full, or a quota or file-size limit was reached: free space or write elsewhere; the "
         "previous file, if any, is unchanged)";
}

void fail_next_atomic_write_after(size_t bytes) { g_fail_after = bytes; }

void write_file_atomic(const std::string& path, const std::string& content) {
  const std::string temp = temporary_path(path);
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw IoError("cannot write '" + path + "': " + std::strerror(errno) + full_disk_hint(errno));
  const int write_error = write_all(fd, content, g_fail_after.exchange(SIZE_MAX), temp);
  const int sync_error = write_error ? write_error : (::fsync(fd) == 0 ? 0 : errno);
  const int close_error = ::close(fd) == 0 ? 0 : errno;
  if (sync_error || close_error) fail_write(path, temp, sync_error ? sync_error : close_error);
  if (::rename(temp.c_str(), path.c_str()) != 0) fail_write(path, temp, errno);
}

std::vector<std::string> remove_stale_temporaries(const std::string& dir) {
  static const std::regex temporary(R"(.*\.tmp([0-9]+))");
  std::vector<std::string> removed;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::smatch match;
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file(ec) || !std::regex_match(name, match, temporary)) continue;
    const long pid = std::strtol(match[1].str().c_str(), nullptr, 10);
    const bool running = pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
    if (running && pid != ::getpid()) continue;
    if (fs::remove(entry.path(), ec)) removed.push_back(entry.path().string());
  }
  std::sort(removed.begin(), removed.end());
  return removed;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open '" + path + "'");
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

}  // namespace deeplab::core
