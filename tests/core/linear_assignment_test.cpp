// The linear assignment solver: hand-checked cases (square, wide, tall,
// forbidden pairs), errors on NaN and on no feasible assignment, and scipy's
// optimal total on 1,000 random rectangular matrices up to 256x256 (its
// assignment too wherever the costs are continuous, so the optimum unique).

#include "deeplab/core/linear_assignment.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <sstream>

#include "deeplab/core/error.h"
#include "tests/support/test_support.h"

namespace deeplab::core {
namespace {

// The same stream as scripts/fixtures/assignment_reference.py.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
  int64_t size(int64_t limit) { return 1 + static_cast<int64_t>(next() % static_cast<uint64_t>(limit)); }

 private:
  uint64_t state_;
};

TEST(LinearAssignment, SquareWideAndTallByHand) {
  // 4 1 3 / 2 0 5 / 3 2 2: rows 0, 1, 2 to columns 1, 0, 2, total 1 + 2 + 2.
  Assignment a = solve_assignment({4, 1, 3, 2, 0, 5, 3, 2, 2}, 3, 3);
  EXPECT_EQ(a.col_of, (std::vector<int64_t>{1, 0, 2}));
  EXPECT_DOUBLE_EQ(a.total, 5.0);
  // Wide: two rows, three columns; the cheapest distinct columns.
  a = solve_assignment({5, 9, 1, 10, 3, 2}, 2, 3);
  EXPECT_EQ(a.row_of, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(a.col_of, (std::vector<int64_t>{2, 1}));
  EXPECT_DOUBLE_EQ(a.total, 4.0);
  // Tall: the transpose gives the same pairs, rows in increasing order.
  a = solve_assignment({5, 10, 9, 3, 1, 2}, 3, 2);
  EXPECT_EQ(a.row_of, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(a.col_of, (std::vector<int64_t>{1, 0}));
  EXPECT_DOUBLE_EQ(a.total, 4.0);
  EXPECT_TRUE(solve_assignment({}, 0, 4).row_of.empty());
}

TEST(LinearAssignment, ForbiddenPairsAndBadCosts) {
  const double inf = std::numeric_limits<double>::infinity();
  const Assignment a = solve_assignment({inf, 1, 2, inf}, 2, 2);
  EXPECT_EQ(a.col_of, (std::vector<int64_t>{1, 0}));
  EXPECT_THROW(solve_assignment({inf, inf, 1, 2}, 2, 2), DataError);
  try {
    solve_assignment({1, 2, std::nan(""), 4}, 2, 2);
    FAIL() << "NaN accepted";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("row 1, column 0 is NaN"), std::string::npos) << e.what();
  }
  EXPECT_THROW(solve_assignment({1, 2, 3}, 2, 2), DataError);
}

TEST(LinearAssignment, ScipysOptimumOnAThousandRandomRectangularMatrices) {
  if (testing::run_shell(testing::oracle_python() + " -c 'import scipy.optimize' 2>/dev/null") != 0) {
    GTEST_SKIP() << testing::oracle_python() << " has no scipy";
  }
  constexpr uint64_t kSeed = 20261204;
  constexpr int kCount = 1000, kMaxSmall = 24, kMaxLarge = 256, kLargeEvery = 10;
  std::string output;
  const std::string args = std::to_string(kSeed) + " " + std::to_string(kCount) + " " + std::to_string(kMaxSmall) +
                           " " + std::to_string(kMaxLarge) + " " + std::to_string(kLargeEvery);
  ASSERT_EQ(testing::run_shell(testing::oracle_python() + " " + testing::source_dir() +
                                   "/scripts/fixtures/assignment_reference.py " + args,
                               &output),
            0)
      << output;
  std::istringstream lines(output);
  SplitMix64 rng(kSeed);
  int same_assignment = 0, largest = 0;
  for (int k = 0; k < kCount; ++k) {
    const int64_t limit = k % kLargeEvery == 0 ? kMaxLarge : kMaxSmall;
    const int64_t rows = rng.size(limit), cols = rng.size(limit);
    std::vector<double> cost(static_cast<size_t>(rows * cols));
    for (double& c : cost) c = rng.uniform();
    if (k % 2 == 1) {
      for (double& c : cost) c = std::floor(c * 5);  // integers 0..4: ties, many optima
    }
    largest = std::max<int>(largest, static_cast<int>(std::max(rows, cols)));
    std::string line;
    ASSERT_TRUE(std::getline(lines, line)) << "scipy gave " << k << " answers";
    std::istringstream fields(line);
    double scipy_total = 0;
    fields >> scipy_total;
    std::vector<int64_t> scipy_cols;
    for (int64_t c; fields >> c;) scipy_cols.push_back(c);
    const Assignment ours = solve_assignment(cost, rows, cols);
    ASSERT_EQ(ours.col_of.size(), static_cast<size_t>(std::min(rows, cols))) << k;
    ASSERT_NEAR(ours.total, scipy_total, 1e-9 * std::max(1.0, std::abs(scipy_total)))
        << "matrix " << k << " (" << rows << "x" << cols << ")";
    if (k % 2 == 0) {
      EXPECT_EQ(ours.col_of, scipy_cols) << "matrix " << k << ": continuous costs have one optimum";
      ++same_assignment;
    }
  }
  EXPECT_GE(largest, 200) << "the draw should reach near 256";
  std::printf("%d matrices up to %dx%d: every total equals scipy's; %d continuous ones assign as scipy does\n", kCount,
              largest, largest, same_assignment);
}

TEST(LinearAssignment, LargeProblemIsQuick) {
  SplitMix64 rng(7);
  std::vector<double> cost(256 * 256);
  for (double& c : cost) c = rng.uniform();
  const Assignment a = solve_assignment(cost, 256, 256);
  std::vector<bool> used(256, false);
  for (const int64_t c : a.col_of) {
    ASSERT_FALSE(used[static_cast<size_t>(c)]);
    used[static_cast<size_t>(c)] = true;
  }
}

}  // namespace
}  // namespace deeplab::core
