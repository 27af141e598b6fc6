#pragma once
// Mixed precision: the autocast scope (core/autocast_scope.h) and our own
// fp16 gradient scaler (C++
// LibTorch has none): scale the loss, unscale, skip the step and shrink the
// scale on inf/NaN, grow it after `growth_interval` good steps.

#include <torch/types.h>

#include <map>
#include <string>
#include <vector>

#include "deeplab/core/autocast_scope.h"

namespace deeplab::train {

using core::AutocastScope;

class GradScaler {
 public:
  explicit GradScaler(double init_scale = 65536.0, double growth = 2.0, double backoff = 0.5,
                      int growth_interval = 2000)
      : scale_(init_scale), growth_(growth), backoff_(backoff), growth_interval_(growth_interval) {}

  torch::Tensor scale(const torch::Tensor& loss) const { return loss * scale_; }
  /// Divides the gradients by the scale; false when any is inf/NaN.
  bool unscale(const std::vector<torch::Tensor>& parameters) const;
  /// Adjusts the scale after a step attempt (`finite` = gradients were finite).
  void update(bool finite);

  double current_scale() const { return scale_; }
  int good_steps() const { return good_steps_; }
  /// Checkpoint entries (scale, good_steps) and their restore.
  std::map<std::string, torch::Tensor> state_dict() const;
  void load_state_dict(const std::map<std::string, torch::Tensor>& state);

 private:
  double scale_, growth_, backoff_;
  int growth_interval_;
  int good_steps_ = 0;
};

}  // namespace deeplab::train
