#pragma once
// Dataset inspection behind `deeplab data stats` and `deeplab data show`:
// both read through the training loader, so they see what training sees.

#include <cstdint>
#include <string>
#include <vector>

#include "deeplab/data/data_config.h"
#include "deeplab/data/descriptor.h"

namespace deeplab::data {

/// Image count and per-class pixel counts of one split (void counted apart).
struct DataStats {
  std::string split;
  size_t images = 0;
  size_t skipped = 0;  // bad samples skipped (data.skip_bad_samples)
  std::vector<std::string> classes;
  std::vector<int64_t> class_pixels;  // by train id
  int64_t void_pixels = 0;            // ignore label
};

/// Counts labels of `split` through the loader without augmentation.
DataStats compute_stats(const DataConfig& config, uint64_t seed, const std::string& split);
/// Human-readable table, or JSON with the same numbers.
std::string stats_to_text(const DataStats& stats);
std::string stats_to_json(const DataStats& stats);

/// Writes `count` augmented training-pipeline samples of `split` to `out_dir`
/// as `<k>_<id>.png`: the image | its colourised label; returns the paths.
std::vector<std::string> write_show_samples(const DataConfig& config, uint64_t seed, const std::string& split,
                                            const std::string& out_dir, int count);

}  // namespace deeplab::data
