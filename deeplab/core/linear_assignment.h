#pragma once
// The linear assignment problem on a rectangular cost matrix: match each row
// to a distinct column (or each column to a distinct row, whichever side is
// smaller) with the least total cost.  MaX-DeepLab's losses match mask slots
// to ground-truth segments with it.  Shortest augmenting paths with dual
// potentials (Jonker and Volgenant, 1987; the rectangular form of Crouse,
// IEEE TAES 2016), in double precision: O(n^2 m) for n <= m, exact on ties.

#include <cstdint>
#include <vector>

namespace deeplab::core {

/// An optimal assignment: row_of[k] is matched to col_of[k], k < min(rows, cols),
/// rows in increasing order (as scipy.optimize.linear_sum_assignment returns them).
struct Assignment {
  std::vector<int64_t> row_of, col_of;
  double total = 0;  // the sum of the matched costs
};

/// Minimises the total cost of `cost` (row-major, rows x cols).  Entries may be
/// +infinity (a pair that must not be matched); DataError when one is NaN or
/// -infinity, or when no assignment avoids the infinite ones.
Assignment solve_assignment(const std::vector<double>& cost, int64_t rows, int64_t cols);

}  // namespace deeplab::core
