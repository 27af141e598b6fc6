#pragma once
// An op-level profile: the time of every ATen operator called on this thread
// while an OpProfiler lives, summed by operator name.  `deeplab bench model
// --profile-ops` prints it, and scripts/bench/op_profile.py sets it beside
// PyTorch's own profiler on the torchvision model, so that a speed gap shows
// as the operators that differ (an extra copy, an out-of-place activation).
//
// It uses ATen's RecordFunction callbacks (the same hooks PyTorch's profiler
// uses), which LibTorch 1.13 and 2.x both have; the overhead is a clock read
// per operator, small against convolutions but visible on tiny ops.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace deeplab::core {

struct OpStat {
  std::string name;  // "aten::convolution"
  int64_t calls = 0;
  double total_ms = 0;  // inclusive: with the operators it called
  double self_ms = 0;   // exclusive: total less its children's totals
};

/// Records the ATen operators run on the constructing thread until it is
/// destroyed.  One profiler per thread at a time (a second throws).
class OpProfiler {
 public:
  OpProfiler();
  ~OpProfiler();
  OpProfiler(const OpProfiler&) = delete;
  OpProfiler& operator=(const OpProfiler&) = delete;

  /// The operators seen so far, most self time first.
  std::vector<OpStat> stats() const;

  struct State;  // defined in op_profile.cpp, where the ATen callbacks reach it

 private:
  std::unique_ptr<State> state_;
};

/// A table of the `top` operators by self time, per pass (`passes` profiled
/// passes divide every count and time), with each one's share of the total.
std::string format_op_table(const std::vector<OpStat>& stats, int passes, size_t top);

}  // namespace deeplab::core
