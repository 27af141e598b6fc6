#include "deeplab/core/logging.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>

#include <filesystem>

#include "deeplab/core/error.h"

namespace deeplab::core {

void set_log_level(const std::string& level) {
  const auto parsed = spdlog::level::from_str(level);
  // from_str maps unknown names to `off`; only "off" itself may mean off.
  if (parsed == spdlog::level::off && level != "off") {
    throw ConfigError("log level '" + level + "' is not known; expected trace, debug, info, warn, error or off");
  }
  spdlog::set_level(parsed);
}

namespace {
bool command_line_level_given = false;
}  // namespace

void set_command_line_log_level(const std::string& level) {
  set_log_level(level);
  command_line_level_given = true;
}

void set_config_log_level(const std::string& level) {
  if (!command_line_level_given) set_log_level(level);
}

void set_console_logging(bool on) {
  for (auto& sink : spdlog::default_logger()->sinks()) {
    if (dynamic_cast<spdlog::sinks::basic_file_sink_mt*>(sink.get()) == nullptr) {
      sink->set_level(on ? spdlog::level::trace : spdlog::level::off);
    }
  }
}

void add_log_file(const std::string& path) {
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  try {
    auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, /*truncate=*/false);
    spdlog::default_logger()->sinks().push_back(sink);
    // Every line reaches the file at once: a killed process leaves its log
    // complete (the launcher and people read it to see what happened).
    spdlog::default_logger()->flush_on(spdlog::level::trace);
  } catch (const spdlog::spdlog_ex& e) {
    throw IoError("cannot open log file '" + path + "': " + e.what());
  }
}

}  // namespace deeplab::core
