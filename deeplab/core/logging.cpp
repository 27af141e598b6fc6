#include "deeplab/core/logging.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

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
std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> held_lines;  // hold_log_lines
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
    if (dynamic_cast<spdlog::sinks::basic_file_sink_mt*>(sink.get()) == nullptr && sink != held_lines) {
      sink->set_level(on ? spdlog::level::trace : spdlog::level::off);
    }
  }
}

namespace {

// Appends the held lines to `path` and stops holding.
void write_held_lines(const std::string& path) {
  if (!held_lines) return;
  auto& sinks = spdlog::default_logger()->sinks();
  sinks.erase(std::remove(sinks.begin(), sinks.end(), held_lines), sinks.end());
  std::ofstream out(path, std::ios::app);
  for (const std::string& line : held_lines->last_formatted()) out << line;
  held_lines.reset();
  if (!out) throw IoError("cannot write log file '" + path + "'");
}

}  // namespace

void hold_log_lines() {
  if (held_lines) return;
  held_lines = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(4096);
  held_lines->set_level(spdlog::level::trace);
  spdlog::default_logger()->sinks().push_back(held_lines);
}

void add_log_file(const std::string& path) {
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  write_held_lines(path);
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

void end_run_logging() {
  auto& sinks = spdlog::default_logger()->sinks();
  sinks.erase(std::remove_if(sinks.begin(), sinks.end(),
                             [](const spdlog::sink_ptr& sink) {
                               return sink == held_lines ||
                                      dynamic_cast<spdlog::sinks::basic_file_sink_mt*>(sink.get()) != nullptr;
                             }),
              sinks.end());
  held_lines.reset();
}

}  // namespace deeplab::core
