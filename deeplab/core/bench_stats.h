#pragma once
// What the benchmarks (bench model, bench train) and the training log share:
// a percentile of timings and the process's peak resident memory.

#include <vector>

namespace deeplab::core {

/// The value below which `fraction` of the samples lie (nearest rank);
/// `values` must not be empty.
double percentile(std::vector<double> values, double fraction);

/// Peak resident set size of this process so far, MiB.
double peak_rss_mib();

}  // namespace deeplab::core
