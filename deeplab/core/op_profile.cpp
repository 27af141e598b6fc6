#include "deeplab/core/op_profile.h"

#include <ATen/record_function.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <unordered_map>

#include "deeplab/core/error.h"

namespace deeplab::core {

namespace {

using Clock = std::chrono::steady_clock;

struct Frame {
  Clock::time_point start;
  double children_ms = 0;
};

double ms_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

}  // namespace

struct OpProfiler::State {
  std::vector<Frame> stack;  // the operators now running, outermost first
  std::unordered_map<std::string, OpStat> by_name;
  at::CallbackHandle handle = 0;
};

namespace {

// The callbacks are plain function pointers, so they find the profiler of
// their thread here (callbacks registered thread-locally run only on it).
thread_local OpProfiler::State* active = nullptr;

std::unique_ptr<at::ObserverContext> on_start(const at::RecordFunction&) {
  if (active) active->stack.push_back({Clock::now()});
  return nullptr;
}

void on_end(const at::RecordFunction& fn, at::ObserverContext*) {
  if (!active || active->stack.empty()) return;
  const auto now = Clock::now();
  const Frame frame = active->stack.back();
  active->stack.pop_back();
  const double total = ms_between(frame.start, now);
  if (!active->stack.empty()) active->stack.back().children_ms += total;
  OpStat& stat = active->by_name[fn.name()];
  stat.calls += 1;
  stat.total_ms += total;
  stat.self_ms += total - frame.children_ms;
}

}  // namespace

OpProfiler::OpProfiler() : state_(std::make_unique<State>()) {
  if (active) throw Error("OpProfiler: a profiler is already recording on this thread");
  active = state_.get();
  state_->handle =
      at::addThreadLocalCallback(at::RecordFunctionCallback(on_start, on_end).scopes({at::RecordScope::FUNCTION}));
}

OpProfiler::~OpProfiler() {
  at::removeCallback(state_->handle);
  active = nullptr;
}

std::vector<OpStat> OpProfiler::stats() const {
  std::vector<OpStat> out;
  out.reserve(state_->by_name.size());
  for (const auto& [name, stat] : state_->by_name) {
    out.push_back(stat);
    out.back().name = name;
  }
  std::sort(out.begin(), out.end(), [](const OpStat& a, const OpStat& b) {
    return a.self_ms != b.self_ms ? a.self_ms > b.self_ms : a.name < b.name;
  });
  return out;
}

std::string format_op_table(const std::vector<OpStat>& stats, int passes, size_t top) {
  const double per_pass = 1.0 / std::max(passes, 1);
  double self_total = 0;
  for (const auto& s : stats) self_total += s.self_ms;
  std::string out = "  operator                                   calls/pass   self ms/pass  share   total ms/pass\n";
  char line[160];
  for (size_t i = 0; i < std::min(top, stats.size()); ++i) {
    const OpStat& s = stats[i];
    std::snprintf(line, sizeof line, "  %-42s %10.1f %14.2f %5.1f %% %15.2f\n", s.name.c_str(),
                  static_cast<double>(s.calls) * per_pass, s.self_ms * per_pass,
                  self_total > 0 ? 100.0 * s.self_ms / self_total : 0.0, s.total_ms * per_pass);
    out += line;
  }
  std::snprintf(line, sizeof line, "  %-42s %10s %14.2f\n", "all operators (self)", "", self_total * per_pass);
  return out + line;
}

}  // namespace deeplab::core
