#include "deeplab/experiment/run_dir.h"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "deeplab/core/error.h"
#include "deeplab/core/fs_util.h"
#include "deeplab/core/logging.h"

namespace deeplab::experiment {
namespace fs = std::filesystem;

std::string keep_previous_config(const std::string& dir, const std::string& new_yaml) {
  const fs::path current = fs::path(dir) / "config.yaml";
  if (!fs::exists(current) || core::read_file(current.string()) == new_yaml) return "";
  for (int n = 1;; ++n) {
    const fs::path kept = fs::path(dir) / ("config." + std::to_string(n) + ".yaml");
    if (fs::exists(kept)) continue;
    std::error_code ec;
    fs::rename(current, kept, ec);  // same directory: atomic, nothing copied
    if (ec)
      throw IoError("cannot keep the previous config '" + current.string() + "' as '" + kept.string() +
                    "': " + ec.message());
    return kept.string();
  }
}

void prepare_run_dir(const Config& config, const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw IoError("cannot create run directory '" + dir + "': " + ec.message());
  const std::string kept = keep_previous_config(dir, config_to_yaml(config));
  write_effective_config(config, dir);
  core::add_log_file((fs::path(dir) / "log.txt").string());
  spdlog::info("run directory: {}", dir);
  if (!kept.empty()) spdlog::info("the run's config changed: the previous one is kept as {}", kept);
}

}  // namespace deeplab::experiment
