#include "deeplab/train/mixed_precision.h"

#include <torch/torch.h>
#include <torch/version.h>

#include "deeplab/core/error.h"
#include "deeplab/train/checkpoint.h"

namespace deeplab::train {

bool GradScaler::unscale(const std::vector<torch::Tensor>& parameters) const {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> grads;
  for (const auto& p : parameters) {
    if (p.grad().defined()) grads.push_back(p.grad());
  }
  if (grads.empty()) return true;
  // Fused over the list and one device-to-host read for all of them: a read
  // per parameter would stall a GPU step ~160 times.  A norm is inf or NaN
  // when its tensor holds an inf or a NaN (or finite values beyond ~1e19,
  // whose squares overflow: a step that also wants a smaller scale).
  at::_foreach_mul_(grads, 1.0 / scale_);
  return torch::isfinite(torch::stack(at::_foreach_norm(grads, 2))).all().item<bool>();
}

void GradScaler::update(bool finite) {
  if (!finite) {
    scale_ *= backoff_;
    good_steps_ = 0;
    return;
  }
  if (++good_steps_ >= growth_interval_) {
    scale_ *= growth_;
    good_steps_ = 0;
  }
}

std::map<std::string, torch::Tensor> GradScaler::state_dict() const {
  return {{"scale", state_scalar(scale_)}, {"good_steps", state_scalar(static_cast<int64_t>(good_steps_))}};
}

void GradScaler::load_state_dict(const std::map<std::string, torch::Tensor>& state) {
  scale_ = state_double(state, "scale", scale_);
  good_steps_ = static_cast<int>(state_int(state, "good_steps", good_steps_));
}

}  // namespace deeplab::train
