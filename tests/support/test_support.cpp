#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>

namespace deeplab::testing {
namespace fs = std::filesystem;

TempDir::TempDir() {
  std::random_device rd;
  const auto base = fs::temp_directory_path();
  for (;;) {
    fs::path candidate = base / ("deeplab_test_" + std::to_string(rd()));
    if (fs::create_directory(candidate)) {
      path_ = candidate.string();
      return;
    }
  }
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string TempDir::file(const std::string& name) const {
  const fs::path p = fs::path(path_) / name;
  fs::create_directories(p.parent_path());
  return p.string();
}

std::string TempDir::write(const std::string& name, const std::string& content) const {
  const std::string p = file(name);
  std::ofstream(p, std::ios::binary) << content;
  return p;
}

namespace {
// Test binaries live in build/tests/<area>/, where the project's descriptors
// are not next to the executable (core/resources.h): point the library at
// the source tree unless the caller chose another home.
const bool kHomeSet = [] { return ::setenv("DEEPLAB_HOME", DEEPLAB_SOURCE_DIR, /*overwrite=*/0) == 0; }();
}  // namespace

std::string source_dir() {
  if (const char* env = std::getenv("DEEPLAB_SOURCE_DIR")) return env;
  return DEEPLAB_SOURCE_DIR;
}

std::string source_path(const std::string& relative) { return source_dir() + "/" + relative; }

// Both can be moved: scripts/gpu/check.sh runs the test binaries on another
// machine, from another directory.
std::string binary_dir() {
  if (const char* env = std::getenv("DEEPLAB_BINARY_DIR")) return env;
  return DEEPLAB_BINARY_DIR;
}

std::string samples_dir() {
  const char* env = std::getenv("DEEPLAB_SAMPLES");
  const fs::path dir = env ? fs::path(env) : fs::path(source_dir()) / ".." / "shared" / "samples";
  return fs::is_directory(dir) ? fs::canonical(dir).string() : std::string();
}

namespace {
int int_from_env(const char* name, int fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::atoi(value) : fallback;
}
}  // namespace

int test_seed(int fallback) { return int_from_env("DEEPLAB_TEST_SEED", fallback); }
int test_threads(int fallback) { return int_from_env("DEEPLAB_TEST_THREADS", fallback); }

int run_shell(const std::string& command, std::string* output) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return -1;
  std::array<char, 4096> buffer{};
  std::string text;
  size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) text.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  if (output) *output = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

CommandResult run_deeplab(const std::string& args) {
  CommandResult result;
  result.exit_code = run_shell(binary_dir() + "/deeplab " + args, &result.output);
  return result;
}

std::string oracle_python() {
  const char* chosen = std::getenv("DEEPLAB_ORACLE_PYTHON");
  return chosen != nullptr && *chosen != '\0' ? chosen : DEEPLAB_ORACLE_PYTHON;
}

std::string tools_python() {
  const char* chosen = std::getenv("DEEPLAB_TOOLS_PYTHON");
  return chosen != nullptr && *chosen != '\0' ? chosen : DEEPLAB_TOOLS_PYTHON;
}

bool tools_python_has(const std::string& modules) {
  return fs::exists(tools_python()) && run_shell(tools_python() + " -c 'import " + modules + "' 2>/dev/null") == 0;
}

bool have_python_oracle() {
  static const bool present = fs::exists(deeplab::testing::oracle_python()) &&
                              run_shell(deeplab::testing::oracle_python() + " -c 'import torch, torchvision'") == 0;
  return present;
}

std::string python_fixture_dir(const std::string& script) {
  if (!have_python_oracle()) return "";
  const std::string path = source_dir() + "/scripts/fixtures/" + script;
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  const fs::path dir = fs::path(binary_dir()) / "fixtures" /
                       (fs::path(script).stem().string() + "-" +
                        std::to_string(std::hash<std::string>{}(content.str() + oracle_python())));
  if (fs::exists(dir)) return dir.string();
  const fs::path temp = dir.string() + ".tmp" + std::to_string(::getpid());
  std::string output;
  if (run_shell(deeplab::testing::oracle_python() + " " + path + " generate " + temp.string(), &output) != 0) {
    ADD_FAILURE() << "fixture script " << path << " failed:\n" << output;
    return "";
  }
  std::error_code ec;
  fs::rename(temp, dir, ec);
  if (ec) fs::remove_all(temp, ec);  // another test process finished first
  return dir.string();
}

}  // namespace deeplab::testing
