// Atomic writes: a write that fails (here a real file-size limit, as a full
// disk) throws IoError naming the file with what to do, removes its temporary
// file and leaves the previous content; temporary files of killed processes
// are removed, those of running processes kept.

#include "deeplab/core/fs_util.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>

#include "deeplab/core/error.h"
#include "tests/support/test_support.h"

namespace deeplab::core {
namespace {
namespace fs = std::filesystem;

// Sets RLIMIT_FSIZE for its lifetime (SIGXFSZ ignored, as the tool does).
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    getrlimit(RLIMIT_FSIZE, &saved_);
    previous_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    rlimit limit = saved_;
    limit.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &limit);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &saved_);
    std::signal(SIGXFSZ, previous_handler_);
  }

 private:
  rlimit saved_{};
  void (*previous_handler_)(int) = nullptr;
};

TEST(FsUtil, AWriteOverTheFileSizeLimitIsAClearErrorAndKeepsThePreviousFile) {
  testing::TempDir dir;
  const std::string path = dir.file("state.bin");
  write_file_atomic(path, "previous");
  try {
    FileSizeLimit limit(4096);
    write_file_atomic(path, std::string(10000, 'x'));
    FAIL() << "a write over the limit succeeded";
  } catch (const IoError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("cannot write '" + path + "': File too large (the disk is full"), std::string::npos)
        << message;
  }
  EXPECT_EQ(read_file(path), "previous");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1)
      << "a temporary file was left";
}

TEST(FsUtil, FullDiskHintOnlyForFullDiskErrors) {
  EXPECT_NE(full_disk_hint(ENOSPC).find("disk is full"), std::string::npos);
  EXPECT_NE(full_disk_hint(EFBIG).find("file-size limit"), std::string::npos);
  EXPECT_EQ(full_disk_hint(EACCES), "");
}

TEST(FsUtil, StaleTemporariesOfDeadProcessesAreRemovedOthersKept) {
  testing::TempDir dir;
  const pid_t dead = fork();
  if (dead == 0) _exit(0);
  waitpid(dead, nullptr, 0);  // reaped: its pid names no process now
  const std::string stale = dir.write("iter_0000006.ckpt.tmp" + std::to_string(dead), "partial");
  const std::string live = dir.write("iter_0000008.ckpt.tmp" + std::to_string(getppid()), "being written");
  const std::string checkpoint = dir.write("iter_0000004.ckpt", "whole");
  const std::string notes = dir.write("notes.tmp", "no pid");
  EXPECT_EQ(remove_stale_temporaries(dir.path()), std::vector<std::string>{stale});
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(live));
  EXPECT_TRUE(fs::exists(checkpoint));
  EXPECT_TRUE(fs::exists(notes));
  EXPECT_TRUE(remove_stale_temporaries(dir.path() + "/absent").empty());
}

}  // namespace
}  // namespace deeplab::core
