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
/// `source_dir()/relative`, e.g. source_path("configs/voc/x.yaml").
std::string source_path(const std::string& relative);
/// The build directory (holds the `deeplab` binary).
std::string binary_dir();

/// The seed a test that trains uses: $DEEPLAB_TEST_SEED, else `fallback`.
/// scripts/check_training_margins.sh runs those tests under several seeds,
/// thread counts and oneDNN ISAs to show their preconditions hold with margin.
int test_seed(int fallback);
/// The intra-op threads a test that trains uses: $DEEPLAB_TEST_THREADS, else `fallback`.
int test_threads(int fallback);

/// `../shared/samples` or $DEEPLAB_SAMPLES; empty when absent (tests skip).
std::string samples_dir();

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};
/// Runs `build/deeplab <args>` through the shell and captures its output.
CommandResult run_deeplab(const std::string& args);

/// Runs a shell command; returns its exit code, stdout+stderr in `output`.
int run_shell(const std::string& command, std::string* output = nullptr);

/// The Python the oracle tests run: Debian's /usr/bin/python3 (torch 1.13)
/// for the default build, the venv's (torch 2.11) for build-torch2/; the CMake
/// cache variable DEEPLAB_ORACLE_PYTHON, or $DEEPLAB_ORACLE_PYTHON at run time.
std::string oracle_python();

/// The Python of the checking tools (tensorboard, onnx, onnxruntime): the
/// venv scripts/setup.sh makes (scripts/tools_env.sh), or $DEEPLAB_TOOLS_PYTHON.
std::string tools_python();
/// True when tools_python() exists and imports every module named ("onnx, onnxruntime").
bool tools_python_has(const std::string& modules);

/// True when oracle_python() imports torch and torchvision.
bool have_python_oracle();

/// Runs `<oracle_python()> scripts/fixtures/<script> generate DIR` once and
/// returns DIR (under the build tree, keyed by the script's content so an
/// edited script regenerates; written to a temp folder and renamed, so
/// parallel test processes never see half a set).  Empty when there is no
/// oracle; a failing script is a test failure.
std::string python_fixture_dir(const std::string& script);

}  // namespace deeplab::testing
