#include "deeplab/core/resources.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace deeplab::core {
namespace fs = std::filesystem;

namespace {
fs::path executable_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : exe.parent_path();
}
}  // namespace

std::vector<std::string> resource_roots() {
  std::vector<fs::path> candidates;
  if (const char* home = std::getenv("DEEPLAB_HOME"); home != nullptr && *home != '\0') candidates.emplace_back(home);
  const fs::path exe_dir = executable_dir();
  if (!exe_dir.empty()) {
    candidates.push_back(exe_dir.parent_path());
    candidates.push_back(exe_dir.parent_path() / "share" / "deeplab");
  }
  std::vector<std::string> roots;
  for (const auto& c : candidates) {
    if (fs::is_directory(c)) roots.push_back(c.lexically_normal().string());
  }
  return roots;
}

std::string find_resource(const std::string& relative, std::vector<std::string>* tried) {
  for (const auto& root : resource_roots()) {
    const fs::path candidate = fs::path(root) / relative;
    if (tried) tried->push_back(candidate.string());
    if (fs::is_regular_file(candidate)) return candidate.string();
  }
  return "";
}

}  // namespace deeplab::core
