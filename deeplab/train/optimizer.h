#pragma once
// Optimizer with parameter groups: the model's new layers (its head
// parameters, as the model declares them) may train at a multiple of the
// learning rate, and norm parameters and biases may skip weight decay.  The
// schedule sets each group's lr every step.

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include <memory>
#include <vector>

#include "deeplab/train/train_config.h"

namespace deeplab::train {

class GroupedOptimizer {
 public:
  /// Trainable parameters of `model` only (frozen norm parameters are left
  /// out); those in `head` train at optimizer.head_lr_mult.
  GroupedOptimizer(torch::nn::Module& model, const std::vector<torch::Tensor>& head, const TrainConfig& config);

  /// Sets every group's lr to `base_lr` times the group's multiplier.
  void set_lr(double base_lr);
  torch::optim::Optimizer& optimizer() { return *optimizer_; }
  size_t num_groups() const { return multipliers_.size(); }
  double group_lr(size_t group) const;

 private:
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  std::vector<double> multipliers_;
};

}  // namespace deeplab::train
