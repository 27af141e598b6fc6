#include "deeplab/core/progress.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <sstream>

namespace deeplab::core {

ProgressBar::ProgressBar(std::string label, int64_t total, std::string unit, int64_t log_every, bool enabled)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      log_every_(std::max<int64_t>(1, log_every > 0 ? log_every : total / 10)),
      enabled_(enabled),
      tty_(::isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()) {}

double ProgressBar::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

double ProgressBar::rate(int64_t done) const {
  const double seconds = elapsed();
  const int64_t steps = done - std::max<int64_t>(0, start_done_);
  return seconds > 0 ? steps / seconds : 0.0;
}

std::string ProgressBar::format_duration(double seconds) {
  const auto s = static_cast<int64_t>(seconds + 0.5);
  char text[32];
  if (s >= 3600) {
    std::snprintf(text, sizeof(text), "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  } else {
    std::snprintf(text, sizeof(text), "%lld:%02lld", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  }
  return text;
}

void ProgressBar::update(int64_t done, const std::string& detail) {
  if (!enabled_) return;
  if (start_done_ < 0) {  // rates count from the first update (a resumed run starts mid-way)
    start_done_ = done;
    start_ = std::chrono::steady_clock::now();
    if (done > 0 && done < total_) return;
  }
  const double r = rate(done);
  const std::string eta = r > 0 ? format_duration((total_ - done) / r) : "?";
  std::ostringstream line;
  line << label_ << " " << done << "/" << total_ << " " << detail << (detail.empty() ? "" : " ") << std::fixed;
  line.precision(2);
  line << r << " " << unit_ << "/s ETA " << eta;
  const auto now = std::chrono::steady_clock::now();
  if (tty_) {
    // Redraw at most 10 times a second: cheap enough to call per image.
    if (done != total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    const int width = 24;
    const int filled = total_ > 0 ? static_cast<int>(width * done / total_) : width;
    std::fprintf(stderr, "\r\033[K[%s%s] %s", std::string(filled, '#').c_str(),
                 std::string(width - filled, '.').c_str(), line.str().c_str());
    std::fflush(stderr);
  } else if (done == total_ || done - last_logged_ >= log_every_) {
    spdlog::info("{}", line.str());
    last_logged_ = done;
  }
}

void ProgressBar::finish() {
  if (enabled_ && tty_ && !finished_) std::fprintf(stderr, "\n");
  finished_ = true;
}

}  // namespace deeplab::core
