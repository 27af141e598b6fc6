#include "deeplab/core/bench_stats.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

namespace deeplab::core {
namespace {

// Nearest rank: the smallest sample with at least `fraction` of them at or
// below it, whatever the input order.
TEST(BenchStats, PercentileIsTheNearestRank) {
  const std::vector<double> ms = {9, 1, 7, 3, 5, 10, 2, 8, 4, 6};
  EXPECT_EQ(percentile(ms, 0.5), 5);
  EXPECT_EQ(percentile(ms, 0.9), 9);
  EXPECT_EQ(percentile(ms, 0.91), 10);
  EXPECT_EQ(percentile(ms, 1.0), 10);
  EXPECT_EQ(percentile(ms, 0.0), 1);
  EXPECT_EQ(percentile({42}, 0.9), 42);
}

// The peak covers what the process has touched: 256 MiB written now is
// resident at once, so the peak is at least that (in MiB, not KiB or pages).
TEST(BenchStats, PeakRssCoversTouchedMemory) {
  const double before = peak_rss_mib();
  constexpr size_t kMiB = 256;
  const std::unique_ptr<char[]> block(new char[kMiB << 20]);
  std::memset(block.get(), 1, kMiB << 20);
  const double after = peak_rss_mib();
  EXPECT_GE(after, before);
  EXPECT_GE(after, static_cast<double>(kMiB)) << "before " << before << " MiB";
  EXPECT_LT(after, 64.0 * kMiB) << "not MiB";
  EXPECT_EQ(block[(kMiB << 20) - 1], 1);
}

// Not a timing assertion: a clock outside 0.3-6.5 GHz (no x86-64 core runs
// faster) means the measurement is broken, not a slow machine: a chain the
// compiler dropped, or adds the CPU folds (a chain of immediate adds read
// 7.4-13.6 GHz on this project's 2.8 GHz cores).
TEST(BenchStats, CoreClockIsAPlausibleFrequency) {
  const double ghz = core_clock_ghz();
#if defined(__x86_64__)
  EXPECT_GT(ghz, 0.3);
  EXPECT_LT(ghz, 6.5);
#else
  EXPECT_EQ(ghz, 0.0);
#endif
}

}  // namespace
}  // namespace deeplab::core
