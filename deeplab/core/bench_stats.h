#pragma once
// What the benchmarks (bench model, bench train, the CRF benchmark) and the
// training log share: a percentile of timings, the process's peak resident
// memory, and the core's clock.

#include <vector>

namespace deeplab::core {

/// The value below which `fraction` of the samples lie (nearest rank);
/// `values` must not be empty.
double percentile(std::vector<double> values, double fraction);

/// Peak resident set size of this process so far, MiB.
double peak_rss_mib();

/// The clock of the core this thread runs on, in GHz, measured now (about
/// 40 ms): a chain of 10^8 dependent register adds, one per cycle on x86-64.
/// 0 on other architectures.  Benchmarks print it before and after their
/// runs, so that a slow run can be told apart from a lowered clock.
double core_clock_ghz();

}  // namespace deeplab::core
