#pragma once
// Joint image/label augmentation as in the DeepLab recipes. Labels (and
// instance ids) are always resized nearest-neighbour and padded with the
// ignore label (instances with 0).

#include <array>
#include <cstdint>
#include <random>
#include <vector>

#include "deeplab/data/data_config.h"
#include "deeplab/data/sample.h"

namespace deeplab::data {

/// Settings of one pipeline; `from_config(config, train)` builds them from the `data:` section.
struct TransformOptions {
  bool train = true;
  int crop_h = 513, crop_w = 513;
  double scale_min = 0.5, scale_max = 2.0, scale_step = 0.25;  // step 0: continuous
  bool flip = true;
  PhotometricConfig photometric;
  std::array<uint8_t, 3> pad_color{124, 116, 104};  // the mean, so padding normalises to ~0
  int ignore_label = 255;
  int eval_pad_multiple = 0;

  static TransformOptions from_config(const DataConfig& config, bool train);
};

/// Random scale -> pad to crop -> random crop -> flip -> photometric (train);
/// whole image, optionally padded to a multiple (eval).
class Transform {
 public:
  explicit Transform(TransformOptions options) : options_(std::move(options)) {}
  /// Applies the pipeline in place; all randomness comes from `rng`.
  void apply(Sample& sample, std::mt19937_64& rng) const;
  const TransformOptions& options() const { return options_; }

 private:
  void random_scale(Sample& s, std::mt19937_64& rng) const;
  void pad_to(Sample& s, int height, int width) const;
  void random_crop(Sample& s, std::mt19937_64& rng) const;
  void photometric(cv::Mat& rgb, std::mt19937_64& rng) const;

  TransformOptions options_;
};

/// Uniform double in [lo, hi) from the top 53 bits (same on every platform).
double uniform(std::mt19937_64& rng, double lo, double hi);
/// A scale from [lo, hi]: one of lo, lo+step, ... when step > 0, else continuous.
double sample_scale(std::mt19937_64& rng, double lo, double hi, double step);

}  // namespace deeplab::data
