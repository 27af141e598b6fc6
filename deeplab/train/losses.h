#pragma once
// Segmentation losses: per-pixel cross-entropy with ignore index, class
// weights and label smoothing; bootstrapped top-k hard-pixel mining; and the
// training loss as a list of named terms over a model's named outputs
// ("semantic", "aux" x aux_weight, each "msc/<scale>"), logged one by one.
//
// Normalisation is independent of how a global batch is split over
// processes: a rank's loss is its local sum divided by a global count (valid
// pixels, class-weighted when class weights are set; images for top-k),
// summed across ranks by `GlobalSum`, and gradients are all-reduced by SUM,
// so 2 processes x batch 2 optimise exactly the objective of 1 x 4.

#include <torch/types.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "deeplab/core/process_group.h"
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

/// Sums a small tensor over all processes of a data-parallel run (a blocking
/// all-reduce); empty: this process is the whole run.
using GlobalSum = std::function<torch::Tensor(torch::Tensor)>;

/// The GlobalSum of a data-parallel run over `group` (a float64 all-reduce,
/// so counts stay exact); empty for null (one process).
GlobalSum global_sum_over(const std::shared_ptr<core::ProcessGroup>& group);

class SegmentationLoss {
 public:
  /// Σ of `local` over every process (itself with one process).
  torch::Tensor global(torch::Tensor local) const;
  SegmentationLoss(LossConfig config, int num_classes, int ignore_label, GlobalSum global_sum = {});

  /// Without top-k: Σ weighted per-pixel CE / Σ weight of the valid pixels
  /// (PyTorch's cross_entropy mean).  With top_k_percent p < 1 (deeplab2's
  /// compute_average_top_k_loss): per image, the sum of the k = round(p·H·W)
  /// largest weighted per-pixel losses (ignored pixels count 0) over how many
  /// of them are non-zero (0 if none); then the mean over the images.  Both
  /// denominators are global (GlobalSum).
  /// `pixel_weights` ([N, H, W], optional) multiply each pixel's loss
  /// (Panoptic-DeepLab weighs small instances 3x); the mean then divides by
  /// their sum over the valid pixels.
  torch::Tensor operator()(const torch::Tensor& logits, const torch::Tensor& labels,
                           const torch::Tensor& pixel_weights = {}) const;

  /// The terms of each logits output against the batch's labels: "semantic",
  /// "aux" (x aux_weight, when > 0), then every "msc/<scale>"; each is the
  /// cross-entropy (when train.loss.cross_entropy > 0, weighted by it), and
  /// "<output>/dice", "/lovasz_softmax", "/focal" for the others with a
  /// weight.  ConfigError when the outputs have no "semantic".
  LossTerms terms(const models::ModelOutputs& outputs, const data::Batch& batch) const;

  /// This loss as a trainer's LossFn.
  static LossFn as_function(LossConfig config, int num_classes, int ignore_label, GlobalSum global_sum = {});

 private:
  /// The weighted terms of one output, named after it.
  void add_terms(LossTerms& terms, const std::string& name, double weight, const torch::Tensor& logits,
                 const torch::Tensor& labels) const;
  torch::Tensor valid_weight(const torch::Tensor& labels, const torch::Tensor& pixel_weights,
                             const torch::Tensor& like) const;

  LossConfig config_;
  GlobalSum global_sum_;
  int ignore_label_;
  torch::Tensor class_weights_;  // undefined when all 1
};

}  // namespace deeplab::train
