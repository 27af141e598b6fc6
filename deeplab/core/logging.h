#pragma once
// spdlog set-up: one logger for the project, to the console and optionally to
// a log file in the run directory.

#include <string>

namespace deeplab::core {

/// Sets the level ("trace".."off"); throws ConfigError naming a bad level.
void set_log_level(const std::string& level);

/// The level the command line gave (--log-level): set now, and it wins over
/// any config's runtime.log_level for the rest of the process.
void set_command_line_log_level(const std::string& level);
/// A config's runtime.log_level: applied unless the command line gave a level.
void set_config_log_level(const std::string& level);

/// Console output on or off (other ranks of a distributed run log to their
/// own files only); log files keep receiving every line.
void set_console_logging(bool on);

/// Keeps the log lines from now on in memory (up to a few thousand), so that
/// a run can log while it decides whether it will write anything at all (a
/// resume is checked before the run directory is touched); the next
/// add_log_file writes them first.
void hold_log_lines();

/// Also writes log lines to `path` (appending; directories are created),
/// starting with any lines hold_log_lines kept.
void add_log_file(const std::string& path);

/// Ends a run's logging in a process that may start another (deeplab::train
/// in an application): drops held lines and detaches every log file.
void end_run_logging();

}  // namespace deeplab::core
