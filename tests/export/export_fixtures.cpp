#include "tests/export/export_fixtures.h"

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <functional>

#include "deeplab/core/fs_util.h"
#include "tests/support/test_support.h"

namespace deeplab::testing {
namespace fs = std::filesystem;
namespace {

const char* kPython = "/usr/bin/python3";

std::string script_path() { return source_dir() + "/scripts/fixtures/export_fixtures.py"; }

int capture_shell(const std::string& command, std::string* output) {
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

std::string generate() {
  if (!fs::exists(kPython) || capture_shell(std::string(kPython) + " -c 'import torch, torchvision'", nullptr) != 0) {
    return "";
  }
  // Keyed by the script's content so an edited script regenerates; built in
  // a private folder and renamed, so parallel test processes never see a
  // half-written set.
  const std::string script = core::read_file(script_path());
  const std::string key = std::to_string(std::hash<std::string>{}(script));
  const fs::path dir = fs::path(binary_dir()) / "fixtures" / ("export-" + key);
  if (fs::exists(dir)) return dir.string();
  const fs::path temp = dir.string() + ".tmp" + std::to_string(::getpid());
  std::string output;
  if (capture_shell(std::string(kPython) + " " + script_path() + " generate " + temp.string(), &output) != 0) {
    ADD_FAILURE() << "fixture script failed:\n" << output;
    return "";
  }
  std::error_code ec;
  fs::rename(temp, dir, ec);
  if (ec) fs::remove_all(temp, ec);  // another process finished first
  // Sets from earlier versions of the script are ~100 MB each: drop them.
  for (const auto& entry : fs::directory_iterator(dir.parent_path(), ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("export-", 0) == 0 && name.find(".tmp") == std::string::npos && entry.path() != dir) {
      fs::remove_all(entry.path(), ec);
    }
  }
  return dir.string();
}

}  // namespace

const std::string& export_fixture_dir() {
  static const std::string dir = generate();
  return dir;
}

int run_fixture_script(const std::string& args, std::string* output) {
  return capture_shell(std::string(kPython) + " " + script_path() + " " + args, output);
}

c10::Dict<c10::IValue, c10::IValue> load_plain_dict(const std::string& path) {
  const std::string bytes = core::read_file(path);
  return torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end())).toGenericDict();
}

void save_plain_dict(const c10::Dict<std::string, torch::Tensor>& dict, const std::string& path) {
  const std::vector<char> bytes = torch::pickle_save(dict);
  core::write_file_atomic(path, std::string(bytes.begin(), bytes.end()));
}

bool close_enough(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.sizes() != b.sizes()) return false;
  const double scale = std::max(1.0, b.abs().max().item<double>());
  return (a - b).abs().max().item<double>() <= 1e-4 * scale;
}

}  // namespace deeplab::testing
