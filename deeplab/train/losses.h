#pragma once
// Segmentation losses: per-pixel cross-entropy with ignore index, class
// weights and label smoothing; bootstrapped top-k hard-pixel mining; and the
// total over a model's outputs (main, auxiliary head, MSC scales).

#include <torch/types.h>

#include "deeplab/models/deeplab.h"
#include "deeplab/train/train_config.h"

namespace deeplab::train {

class SegmentationLoss {
 public:
  SegmentationLoss(LossConfig config, int num_classes, int ignore_label);

  /// Mean loss over valid pixels (weighted mean as PyTorch's cross_entropy
  /// when all pixels count; the mean of the hardest k % otherwise).
  torch::Tensor operator()(const torch::Tensor& logits, const torch::Tensor& labels) const;

  /// Main + aux_weight * aux + each MSC scale's loss.
  torch::Tensor total(const models::DeepLabOutputs& outputs, const torch::Tensor& labels) const;

 private:
  LossConfig config_;
  int ignore_label_;
  torch::Tensor class_weights_;  // undefined when all 1
};

}  // namespace deeplab::train
