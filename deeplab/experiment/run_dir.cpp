#include "deeplab/experiment/run_dir.h"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "deeplab/core/error.h"
#include "deeplab/core/logging.h"

namespace deeplab::experiment {

void prepare_run_dir(const Config& config, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw IoError("cannot create run directory '" + dir + "': " + ec.message());
  write_effective_config(config, dir);
  core::add_log_file((std::filesystem::path(dir) / "log.txt").string());
  spdlog::info("run directory: {}", dir);
}

}  // namespace deeplab::experiment
