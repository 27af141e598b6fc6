#pragma once
// Mixed precision: an autocast scope (bf16 on CPU, fp16 on CUDA) behind one
// small version-sensitive wrapper, and our own fp16 gradient scaler (C++
// LibTorch has none): scale the loss, unscale, skip the step and shrink the
// scale on inf/NaN, grow it after `growth_interval` good steps.

#include <c10/core/Device.h>
#include <torch/types.h>

#include <map>
#include <string>
#include <vector>

namespace deeplab::train {

/// Enables autocast for `mode` ("bf16" | "fp16" | "none") on `device` for its lifetime.
class AutocastScope {
 public:
  AutocastScope(const std::string& mode, c10::Device device);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool cpu_ = false, cuda_ = false;
};

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
