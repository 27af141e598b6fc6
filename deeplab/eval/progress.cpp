#include "deeplab/eval/progress.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace deeplab::eval {
namespace {

constexpr int kBarWidth = 24;

}  // namespace

Progress::Progress(std::string label, int64_t total, bool enabled, int64_t log_every)
    : label_(std::move(label)),
      total_(std::max<int64_t>(total, 0)),
      enabled_(enabled),
      tty_(isatty(STDERR_FILENO) == 1),
      log_every_(log_every > 0 ? log_every : std::max<int64_t>(1, (total_ + 9) / 10)),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string Progress::format_duration(double seconds) {
  const auto s = static_cast<int64_t>(std::llround(std::max(0.0, seconds)));
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%02lld:%02lld", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  }
  return buf;
}

std::string Progress::line(int64_t done) const {
  const double elapsed = elapsed_seconds();
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
  const double fraction = total_ > 0 ? static_cast<double>(done) / static_cast<double>(total_) : 1.0;
  const int filled = static_cast<int>(std::lround(fraction * kBarWidth));
  char tail[96];
  const std::string eta = rate > 0 ? format_duration(static_cast<double>(total_ - done) / rate) : "--:--";
  std::snprintf(tail, sizeof tail, "] %lld/%lld %.2f img/s elapsed %s ETA %s", static_cast<long long>(done),
                static_cast<long long>(total_), rate, format_duration(elapsed).c_str(), eta.c_str());
  return label_ + " [" + std::string(static_cast<size_t>(filled), '#') +
         std::string(static_cast<size_t>(kBarWidth - filled), ' ') + tail;
}

void Progress::update(int64_t done) {
  if (!enabled_ || finished_) return;
  if (tty_) {
    // Redraw at most ~10 times a second: the terminal is slower than a tiny model.
    const auto now = std::chrono::steady_clock::now();
    if (done < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    std::fprintf(stderr, "\r%s", line(done).c_str());
    std::fflush(stderr);
  } else if (done - last_logged_ >= log_every_ || (done == total_ && done != last_logged_)) {
    last_logged_ = done;
    spdlog::info("{}", line(done));
  }
}

void Progress::finish() {
  if (!enabled_ || finished_) return;
  finished_ = true;
  if (tty_) std::fprintf(stderr, "\n");
}

}  // namespace deeplab::eval
