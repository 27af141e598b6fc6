#include "deeplab/core/op_profile.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>

#include "deeplab/core/error.h"

namespace deeplab::core {
namespace {

const OpStat* find(const std::vector<OpStat>& stats, const std::string& name) {
  const auto it = std::find_if(stats.begin(), stats.end(), [&](const OpStat& s) { return s.name == name; });
  return it == stats.end() ? nullptr : &*it;
}

// Every operator is counted once per call, and a composite operator's time
// includes the kernels it dispatches to (matmul calls mm), so its self time
// is what is left after them.
TEST(OpProfile, CountsCallsAndSplitsSelfFromTotal) {
  const auto a = torch::randn({256, 256}), b = torch::randn({256, 256});
  OpProfiler profiler;
  for (int i = 0; i < 3; ++i) torch::matmul(a, b).relu_();
  const auto stats = profiler.stats();
  const OpStat* matmul = find(stats, "aten::matmul");
  const OpStat* mm = find(stats, "aten::mm");
  const OpStat* relu = find(stats, "aten::relu_");
  ASSERT_TRUE(matmul && mm && relu) << format_op_table(stats, 1, 20);
  EXPECT_EQ(matmul->calls, 3);
  EXPECT_EQ(mm->calls, 3);
  EXPECT_EQ(relu->calls, 3);
  EXPECT_GE(matmul->total_ms, mm->total_ms);
  EXPECT_LE(matmul->self_ms, matmul->total_ms - mm->total_ms + 1e-9);
  for (const auto& s : stats) {
    EXPECT_GE(s.self_ms, 0) << s.name;
    EXPECT_LE(s.self_ms, s.total_ms + 1e-9) << s.name;
  }
  // Most self time first.
  for (size_t i = 1; i < stats.size(); ++i) EXPECT_GE(stats[i - 1].self_ms, stats[i].self_ms);
}

// Only the profiler's lifetime is recorded: operators before it are not,
// and once it is gone a new one starts empty.
TEST(OpProfile, RecordsOnlyWhileAlive) {
  torch::ones({4}).add_(1);
  {
    OpProfiler profiler;
    torch::ones({4}).mul_(2);
    const auto stats = profiler.stats();
    EXPECT_EQ(find(stats, "aten::add_"), nullptr);
    ASSERT_NE(find(stats, "aten::mul_"), nullptr);
  }
  torch::ones({4}).sub_(1);
  OpProfiler next;
  EXPECT_TRUE(next.stats().empty()) << format_op_table(next.stats(), 1, 10);
}

TEST(OpProfile, OneProfilerPerThread) {
  OpProfiler first;
  EXPECT_THROW(OpProfiler second, Error);
}

// Counts and times are per pass: 4 calls over 2 passes print as 2.0.
TEST(OpProfile, TableIsPerPass) {
  const std::vector<OpStat> stats = {{"aten::convolution", 4, 10.0, 8.0}, {"aten::add", 2, 2.0, 2.0}};
  const std::string table = format_op_table(stats, 2, 10);
  EXPECT_NE(table.find("aten::convolution                                 2.0           4.00  80.0 %            5.00"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("all operators (self)"), std::string::npos);
  EXPECT_NE(table.find("5.00\n"), std::string::npos) << table;  // 10 ms self over 2 passes
  EXPECT_EQ(format_op_table(stats, 2, 1).find("aten::add"), std::string::npos);
}

}  // namespace
}  // namespace deeplab::core
