#pragma once
// train.ema: an exponential moving average of a model's weights (Polyak
// averaging as timm's ModelEmaV2 and MMSegmentation's EMAHook keep it):
// after each optimizer step from train.ema.start_iter on,
// average = decay * average + (1 - decay) * weights, parameters and
// floating-point buffers (BN statistics) alike; integer buffers are copied.
// Before start_iter it follows the weights.  Every rank holds the same
// weights and buffers after a step (gradients are summed, buffers broadcast
// from rank 0), so every rank averages the same numbers.

#include <torch/nn/module.h>

#include <string>
#include <utility>
#include <vector>

#include "deeplab/train/checkpoint.h"

namespace deeplab::train {

class WeightAverage {
 public:
  /// Copies `model`'s parameters and buffers as the starting average.
  WeightAverage(const torch::nn::Module& model, double decay, int64_t start_iter);

  /// After the optimizer step that completed `iteration` (1-based).
  void update(const torch::nn::Module& model, int64_t iteration);

  /// The average, by state-dict name, for checkpoints; load_state_dict
  /// keeps the average for an empty map (a checkpoint without one) and
  /// throws DataError naming a missing or misshapen entry.
  TensorMap state_dict() const;
  void load_state_dict(const TensorMap& state);

  /// While alive, `model` holds the average; its own weights come back after.
  class Applied {
   public:
    Applied(const WeightAverage& average, torch::nn::Module& model);
    ~Applied();
    Applied(const Applied&) = delete;
    Applied& operator=(const Applied&) = delete;

   private:
    std::vector<torch::Tensor> targets_, saved_;
  };

  double decay() const { return decay_; }

 private:
  static std::vector<std::pair<std::string, torch::Tensor>> entries(const torch::nn::Module& model);

  double decay_;
  int64_t start_iter_;
  std::vector<std::pair<std::string, torch::Tensor>> average_;
};

}  // namespace deeplab::train
