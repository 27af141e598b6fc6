#pragma once
// Segmentation losses: per-pixel cross-entropy with ignore index, class
// weights and label smoothing; bootstrapped top-k hard-pixel mining; and the
// training loss as a list of named terms over a model's named outputs
// ("semantic", "aux" x aux_weight, each "msc/<scale>"), logged one by one.

#include <torch/types.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "deeplab/data/loader.h"
#include "deeplab/models/outputs.h"
#include "deeplab/train/train_config.h"

namespace deeplab::train {

/// Weighted loss terms by name, in the order they are summed.
using LossTerms = std::vector<std::pair<std::string, torch::Tensor>>;

/// The sum of the terms (what backward() runs on).
torch::Tensor total_loss(const LossTerms& terms);

/// Named loss terms of a batch from the model's named outputs: what the
/// trainer takes as its loss.
using LossFn = std::function<LossTerms(const models::ModelOutputs&, const data::Batch&)>;

class SegmentationLoss {
 public:
  SegmentationLoss(LossConfig config, int num_classes, int ignore_label);

  /// Mean loss over valid pixels (weighted mean as PyTorch's cross_entropy
  /// when all pixels count; the mean of the hardest k % otherwise).
  torch::Tensor operator()(const torch::Tensor& logits, const torch::Tensor& labels) const;

  /// One term per logits output against the batch's labels: "semantic",
  /// "aux" (x aux_weight, when > 0), then every "msc/<scale>".  ConfigError
  /// when the outputs have no "semantic".
  LossTerms terms(const models::ModelOutputs& outputs, const data::Batch& batch) const;

  /// This loss as a trainer's LossFn.
  static LossFn as_function(LossConfig config, int num_classes, int ignore_label);

 private:
  LossConfig config_;
  int ignore_label_;
  torch::Tensor class_weights_;  // undefined when all 1
};

}  // namespace deeplab::train
