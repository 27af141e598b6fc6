#pragma once
// Panoptic-DeepLab's training loss (deeplab2 model/loss/, Cheng et al. 2020),
// three named terms logged one by one:
//   semantic  x semantic_weight (1): cross-entropy with the loader's per-pixel
//             weights (small instances x3), top-k per image as
//             SegmentationLoss (train.loss.top_k_percent, 0.2 in the configs);
//   center    x center_weight (200): squared error of the heatmap, weighted
//             by the center weights (0 on crowd and ignore);
//   offset    x offset_weight (0.01): absolute error averaged over (dy, dx),
//             weighted by the offset weights (thing pixels only).
// Center and offset are per image: the weighted sum over the count of
// non-zero weighted losses (0 when none), as deeplab2's losses with
// top_k 1.0; then the mean over the global batch.

#include "deeplab/train/losses.h"

namespace deeplab::train {

class PanopticLoss {
 public:
  PanopticLoss(LossConfig config, int num_classes, int ignore_label, GlobalSum global_sum = {});

  /// "semantic", "center", "offset" from the outputs of the same names and the
  /// batch's panoptic targets; ConfigError naming what is missing.
  LossTerms terms(const models::ModelOutputs& outputs, const data::Batch& batch) const;

  /// Per image Σ loss / #(loss != 0), averaged over the global batch.
  torch::Tensor mean_over_nonzero(const torch::Tensor& per_pixel) const;

  static LossFn as_function(LossConfig config, int num_classes, int ignore_label, GlobalSum global_sum = {});

 private:
  LossConfig config_;
  SegmentationLoss semantic_;
};

}  // namespace deeplab::train
