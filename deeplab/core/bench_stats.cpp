#include "deeplab/core/bench_stats.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>

namespace deeplab::core {

double percentile(std::vector<double> values, double fraction) {
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<size_t>(std::ceil(fraction * static_cast<double>(values.size())));
  return values[std::min(values.size() - 1, rank == 0 ? 0 : rank - 1)];
}

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}

// Adds of a register, not of an immediate: this project's x86-64 machines
// fold chains of immediate adds in the renamer, and such a loop "measured"
// 7.4-8.5 GHz on a 2.8 GHz core.  Ten adds per loop iteration, so that the
// loop's own counter and branch run beside the chain and do not lengthen it.
double core_clock_ghz() {
#if defined(__x86_64__)
  constexpr long kLoops = 10'000'000, kAddsPerLoop = 10;
  long chain = 0;
  const long one = 1;
  const auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < kLoops; ++i) {
    asm volatile(
        "add %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\t"
        "add %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0"
        : "+r"(chain)
        : "r"(one));
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return static_cast<double>(kLoops * kAddsPerLoop) / seconds / 1e9;
#else
  return 0.0;
#endif
}

}  // namespace deeplab::core
