#pragma once
// Helpers shared by all test binaries: temporary directories, small files,
// running the `deeplab` binary, and finding the real samples in ../shared.

#include <string>

namespace deeplab::testing {

/// A fresh directory under the system temp dir, removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  /// `path()/name`, creating parent directories.
  std::string file(const std::string& name) const;
  /// Writes `content` to `path()/name` and returns the full path.
  std::string write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

/// The project's source root (configs/, datasets/ ...).
std::string source_dir();
/// The build directory (holds the `deeplab` binary).
std::string binary_dir();

/// `../shared/samples` or $DEEPLAB_SAMPLES; empty when absent (tests skip).
std::string samples_dir();

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};
/// Runs `build/deeplab <args>` through the shell and captures its output.
CommandResult run_deeplab(const std::string& args);

}  // namespace deeplab::testing
