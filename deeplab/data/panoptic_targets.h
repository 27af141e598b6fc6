#pragma once
// Panoptic-DeepLab training targets (Cheng et al., CVPR 2020) as deeplab2's
// data/sample_generator.py publishes them: a Gaussian heatmap per instance
// center, per-pixel offsets to the own center, and the semantic/center/offset
// loss weights. Computed per crop after augmentation, in the loader workers.

#include <opencv2/core.hpp>

#include <cstdint>
#include <vector>

#include "deeplab/data/data_config.h"
#include "deeplab/data/descriptor.h"
#include "deeplab/data/sample.h"

namespace deeplab::data {

/// Target settings: `data.panoptic` plus the descriptor's `things`.
struct PanopticTargetOptions {
  std::vector<int> thing_ids;  // train ids of countable classes
  int ignore_label = 255;
  double sigma = 8;                    // Gaussian sigma (px); drawn in a (6*sigma+3)-px square window
  int64_t small_instance_area = 4096;  // instances with area < this (strict) get semantic weight ...
  double small_instance_weight = 3;    // ... this instead of 1
  bool crowd_as_ignore = false;        // true: crowd pixels become ignore_label in the semantic label
};

/// Targets of one sample, all of its size.
struct PanopticTargets {
  cv::Mat center;           // CV_32FC1 heatmap, 1 at each instance center
  cv::Mat offset;           // CV_32FC2 (dy, dx) = center - pixel on instance pixels, 0 elsewhere
  cv::Mat semantic_weight;  // CV_32FC1 small_instance_weight on small instances, else 1
  cv::Mat center_weight;    // CV_32FC1 1 on pixels neither crowd nor ignore
  cv::Mat offset_weight;    // CV_32FC1 1 on non-crowd instance pixels
};

/// Makes targets with the Gaussian window computed once (the loader keeps one per run).
class PanopticTargetGenerator {
 public:
  /// ConfigError when sigma is not positive or a thing id or the ignore label is outside 0..255.
  explicit PanopticTargetGenerator(PanopticTargetOptions options);
  /// See make_panoptic_targets.
  PanopticTargets operator()(Sample& sample) const;
  const PanopticTargetOptions& options() const { return options_; }

 private:
  void draw_center(cv::Mat& heatmap, int cy, int cx) const;

  PanopticTargetOptions options_;
  std::vector<bool> is_thing_;  // by label value, 256 entries
  cv::Mat gaussian_;            // CV_32FC1, side int(6*sigma+3)
  int window_begin_ = 0;        // rows/cols of the window before the center
};

/// Targets of `sample` (label = train ids, instances = the canonical encoding of
/// Sample::instances). With crowd_as_ignore, also sets crowd pixels of sample.label to
/// ignore_label. Throws DataError naming sample.id when instances is empty or of another size.
PanopticTargets make_panoptic_targets(Sample& sample, const PanopticTargetOptions& options);

/// Options from `data.panoptic` and the dataset's thing classes and ignore label.
PanopticTargetOptions panoptic_target_options(const DataConfig& config, const DatasetDescriptor& descriptor);

}  // namespace deeplab::data
