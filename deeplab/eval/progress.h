#pragma once
// Progress of a long loop: a redrawn bar with rate and ETA on a terminal,
// periodic log lines otherwise (a bar's carriage returns would fill a log file).

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace deeplab::eval {

/// Reports `done / total` items; `update` is cheap enough to call per item.
class Progress {
 public:
  /// `log_every` items between log lines when not on a terminal (0: about every 10 %).
  /// `enabled` false prints nothing.
  Progress(std::string label, int64_t total, bool enabled = true, int64_t log_every = 0);
  /// Records that `done` items are finished.
  void update(int64_t done);
  /// Final line (the bar gets its newline); idempotent.
  void finish();
  double elapsed_seconds() const;

  /// "1:02:03" or "02:03".
  static std::string format_duration(double seconds);
  /// The text of the bar (no terminal codes), e.g. "eval [####    ] 5/10 2.0 img/s ETA 00:03".
  std::string line(int64_t done) const;

 private:
  std::string label_;
  int64_t total_;
  bool enabled_, tty_;
  int64_t log_every_;
  int64_t last_logged_ = 0;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace deeplab::eval
