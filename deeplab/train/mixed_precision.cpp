#include "deeplab/train/mixed_precision.h"

#include <ATen/autocast_mode.h>
#include <torch/torch.h>
#include <torch/version.h>

#include "deeplab/core/error.h"
#include "deeplab/train/checkpoint.h"

namespace deeplab::train {

// The autocast calls changed names in LibTorch 2.4 (set_autocast_enabled(device, on));
// 1.x and early 2.x use the per-backend functions below.
AutocastScope::AutocastScope(const std::string& mode, c10::Device device) {
  if (mode == "none") return;
  if (mode == "bf16") {
    if (!device.is_cpu()) throw ConfigError("train.amp: bf16 is the CPU mode; on CUDA use fp16");
    at::autocast::set_cpu_enabled(true);
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    cpu_ = true;
  } else if (mode == "fp16") {
    if (!device.is_cuda()) throw ConfigError("train.amp: fp16 needs a CUDA device; on CPU use bf16");
    at::autocast::set_enabled(true);
    cuda_ = true;
  } else {
    throw ConfigError("train.amp: '" + mode + "' is not one of none, bf16, fp16");
  }
}

AutocastScope::~AutocastScope() {
  if (cpu_) at::autocast::set_cpu_enabled(false);
  if (cuda_) at::autocast::set_enabled(false);
  if (cpu_ || cuda_) at::autocast::clear_cache();
}

bool GradScaler::unscale(const std::vector<torch::Tensor>& parameters) const {
  torch::NoGradGuard no_grad;
  bool finite = true;
  for (const auto& p : parameters) {
    if (!p.grad().defined()) continue;
    p.grad().div_(scale_);
    if (finite && !torch::isfinite(p.grad()).all().item<bool>()) finite = false;
  }
  return finite;
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
