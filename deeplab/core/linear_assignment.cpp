#include "deeplab/core/linear_assignment.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "deeplab/core/error.h"

namespace deeplab::core {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// The solver proper, for n <= m: col4row[i] is row i's column.
class ShortestAugmentingPath {
 public:
  ShortestAugmentingPath(const std::vector<double>& cost, int64_t n, int64_t m)
      : cost_(cost),
        n_(n),
        m_(m),
        u_(n, 0),
        v_(m, 0),
        path_(m, -1),
        col4row_(n, -1),
        row4col_(m, -1),
        shortest_(m),
        row_seen_(n),
        col_seen_(m),
        remaining_(m) {}

  std::vector<int64_t> solve() {
    for (int64_t row = 0; row < n_; ++row) augment(row);
    return col4row_;
  }

 private:
  double at(int64_t i, int64_t j) const { return cost_[static_cast<size_t>(i * m_ + j)]; }

  // Dijkstra over reduced costs from the free row `start`; returns the free
  // column that ends the shortest augmenting path, leaving min_dist_ its length.
  int64_t shortest_path(int64_t start) {
    std::fill(shortest_.begin(), shortest_.end(), kInf);
    std::fill(row_seen_.begin(), row_seen_.end(), false);
    std::fill(col_seen_.begin(), col_seen_.end(), false);
    std::iota(remaining_.begin(), remaining_.end(), 0);
    int64_t left = m_, i = start;
    min_dist_ = 0;
    while (true) {
      row_seen_[static_cast<size_t>(i)] = true;
      int64_t best = -1;
      double lowest = kInf;
      for (int64_t k = 0; k < left; ++k) {
        const int64_t j = remaining_[static_cast<size_t>(k)];
        const double reduced = min_dist_ + at(i, j) - u_[static_cast<size_t>(i)] - v_[static_cast<size_t>(j)];
        if (reduced < shortest_[static_cast<size_t>(j)]) {
          path_[static_cast<size_t>(j)] = i;
          shortest_[static_cast<size_t>(j)] = reduced;
        }
        // Among equal distances a free column ends the search soonest.
        const double d = shortest_[static_cast<size_t>(j)];
        if (d < lowest || (d == lowest && row4col_[static_cast<size_t>(j)] == -1)) {
          lowest = d;
          best = k;
        }
      }
      min_dist_ = lowest;
      if (!std::isfinite(min_dist_)) return -1;  // every remaining pair is forbidden
      const int64_t j = remaining_[static_cast<size_t>(best)];
      col_seen_[static_cast<size_t>(j)] = true;
      remaining_[static_cast<size_t>(best)] = remaining_[static_cast<size_t>(--left)];
      if (row4col_[static_cast<size_t>(j)] == -1) return j;
      i = row4col_[static_cast<size_t>(j)];
    }
  }

  void augment(int64_t row) {
    const int64_t sink = shortest_path(row);
    if (sink < 0) throw DataError("linear assignment: no assignment avoids the infinite costs");
    // Potentials keep every reduced cost non-negative and the matched ones zero.
    u_[static_cast<size_t>(row)] += min_dist_;
    for (int64_t i = 0; i < n_; ++i) {
      if (row_seen_[static_cast<size_t>(i)] && i != row) {
        u_[static_cast<size_t>(i)] += min_dist_ - shortest_[static_cast<size_t>(col4row_[static_cast<size_t>(i)])];
      }
    }
    for (int64_t j = 0; j < m_; ++j) {
      if (col_seen_[static_cast<size_t>(j)])
        v_[static_cast<size_t>(j)] -= min_dist_ - shortest_[static_cast<size_t>(j)];
    }
    // Flip the path's matched and unmatched edges, back from the sink.
    for (int64_t j = sink;;) {
      const int64_t i = path_[static_cast<size_t>(j)];
      row4col_[static_cast<size_t>(j)] = i;
      std::swap(col4row_[static_cast<size_t>(i)], j);
      if (i == row) break;
    }
  }

  const std::vector<double>& cost_;
  int64_t n_, m_;
  std::vector<double> u_, v_;
  std::vector<int64_t> path_, col4row_, row4col_;
  std::vector<double> shortest_;
  std::vector<bool> row_seen_, col_seen_;
  std::vector<int64_t> remaining_;
  double min_dist_ = 0;
};

}  // namespace

Assignment solve_assignment(const std::vector<double>& cost, int64_t rows, int64_t cols) {
  if (rows < 0 || cols < 0 || static_cast<int64_t>(cost.size()) != rows * cols) {
    throw DataError("linear assignment: " + std::to_string(cost.size()) + " costs for a " + std::to_string(rows) + "x" +
                    std::to_string(cols) + " matrix");
  }
  for (size_t k = 0; k < cost.size(); ++k) {
    if (std::isnan(cost[k]) || cost[k] == -kInf) {
      throw DataError("linear assignment: cost at row " +
                      std::to_string(static_cast<int64_t>(k) / std::max<int64_t>(cols, 1)) + ", column " +
                      std::to_string(static_cast<int64_t>(k) % std::max<int64_t>(cols, 1)) + " is " +
                      (std::isnan(cost[k]) ? "NaN" : "-infinity"));
    }
  }
  Assignment out;
  if (rows == 0 || cols == 0) return out;
  const bool transposed = rows > cols;  // the solver wants no more rows than columns
  std::vector<double> work;
  if (transposed) {
    work.resize(cost.size());
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j)
        work[static_cast<size_t>(j * rows + i)] = cost[static_cast<size_t>(i * cols + j)];
  }
  const int64_t n = transposed ? cols : rows, m = transposed ? rows : cols;
  const std::vector<int64_t> col4row = ShortestAugmentingPath(transposed ? work : cost, n, m).solve();
  std::vector<std::pair<int64_t, int64_t>> pairs;
  for (int64_t i = 0; i < n; ++i) {
    pairs.emplace_back(transposed ? col4row[static_cast<size_t>(i)] : i,
                       transposed ? i : col4row[static_cast<size_t>(i)]);
  }
  std::sort(pairs.begin(), pairs.end());
  for (const auto& [r, c] : pairs) {
    out.row_of.push_back(r);
    out.col_of.push_back(c);
    out.total += cost[static_cast<size_t>(r * cols + c)];
  }
  return out;
}

}  // namespace deeplab::core
