#pragma once
// Progress for long loops: a one-line bar with rate and ETA redrawn in place
// on a terminal, and plain periodic log lines when output is not a TTY (CI
// logs, files), so both stay readable.

#include <chrono>
#include <cstdint>
#include <string>

namespace deeplab::core {

class ProgressBar {
 public:
  /// `total` steps of `unit` (e.g. "it", "img"); `log_every` is the plain-mode
  /// period (0: about every 10 %); `enabled` false prints nothing.
  ProgressBar(std::string label, int64_t total, std::string unit = "it", int64_t log_every = 20, bool enabled = true);
  /// Marks `done` steps complete (out of total); `detail` is appended (e.g. "loss 0.41 lr 0.007").
  void update(int64_t done, const std::string& detail = "");
  /// Ends the line on a terminal; idempotent.
  void finish();

  /// Seconds since construction (or since the first update after `restart_clock`).
  double elapsed() const;
  /// Steps per second since the clock started.
  double rate(int64_t done) const;
  static std::string format_duration(double seconds);

 private:
  std::string label_, unit_;
  int64_t total_, log_every_, start_done_ = -1, last_logged_ = -1;
  bool enabled_, tty_, finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace deeplab::core
