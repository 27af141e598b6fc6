#include "tests/support/test_support.h"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

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

std::string source_dir() {
  if (const char* env = std::getenv("DEEPLAB_SOURCE_DIR")) return env;
  return DEEPLAB_SOURCE_DIR;
}

std::string binary_dir() { return DEEPLAB_BINARY_DIR; }

std::string samples_dir() {
  const char* env = std::getenv("DEEPLAB_SAMPLES");
  const fs::path dir = env ? fs::path(env) : fs::path(source_dir()) / ".." / "shared" / "samples";
  return fs::is_directory(dir) ? fs::canonical(dir).string() : std::string();
}

CommandResult run_deeplab(const std::string& args) {
  const std::string command = binary_dir() + "/deeplab " + args + " 2>&1";
  CommandResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buffer{};
  size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) result.output.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace deeplab::testing
