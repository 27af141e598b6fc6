#pragma once
// Throughput of the training input pipeline (decode + augment + collate).

#include <cstddef>
#include <string>

#include "deeplab/data/data_config.h"

namespace deeplab::data {

/// One measurement.
struct LoaderBenchResult {
  size_t images = 0;
  double seconds = 0;
  int workers = 0;
  double images_per_second() const { return seconds > 0 ? static_cast<double>(images) / seconds : 0; }
};

/// Runs `warmup` batches untimed, then times `batches` batches of the
/// training pipeline of `config` on `split` (epochs roll over as needed).
LoaderBenchResult benchmark_loader(const DataConfig& config, uint64_t seed, const std::string& split, size_t batches,
                                   size_t warmup);

}  // namespace deeplab::data
