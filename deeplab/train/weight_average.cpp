#include "deeplab/train/weight_average.h"

#include <torch/torch.h>

#include "deeplab/core/error.h"

namespace deeplab::train {

std::vector<std::pair<std::string, torch::Tensor>> WeightAverage::entries(const torch::nn::Module& model) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : model.named_parameters(/*recurse=*/true)) out.emplace_back(p.key(), p.value());
  for (const auto& b : model.named_buffers(/*recurse=*/true)) out.emplace_back(b.key(), b.value());
  return out;
}

WeightAverage::WeightAverage(const torch::nn::Module& model, double decay, int64_t start_iter)
    : decay_(decay), start_iter_(start_iter) {
  torch::NoGradGuard no_grad;
  for (const auto& [name, tensor] : entries(model)) average_.emplace_back(name, tensor.detach().clone());
}

void WeightAverage::update(const torch::nn::Module& model, int64_t iteration) {
  torch::NoGradGuard no_grad;
  const auto current = entries(model);
  const bool follow = iteration <= start_iter_;
  for (size_t i = 0; i < average_.size(); ++i) {
    torch::Tensor& avg = average_[i].second;
    const torch::Tensor& now = current.at(i).second;
    if (follow || !avg.is_floating_point()) {
      avg.copy_(now);
    } else {
      avg.mul_(decay_).add_(now.detach(), 1.0 - decay_);
    }
  }
}

TensorMap WeightAverage::state_dict() const {
  TensorMap state;
  for (const auto& [name, tensor] : average_) state.emplace(name, tensor);
  return state;
}

void WeightAverage::load_state_dict(const TensorMap& state) {
  if (state.empty()) return;  // a checkpoint from before train.ema was on: average from the resumed weights
  torch::NoGradGuard no_grad;
  for (auto& [name, tensor] : average_) {
    const auto it = state.find(name);
    if (it == state.end()) throw DataError("the checkpoint's weight average (train.ema) has no '" + name + "'");
    if (!it->second.sizes().equals(tensor.sizes())) {
      throw DataError("the checkpoint's weight average has '" + name + "' of another shape");
    }
    tensor.copy_(it->second);
  }
}

WeightAverage::Applied::Applied(const WeightAverage& average, torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  const auto current = entries(model);
  for (size_t i = 0; i < current.size(); ++i) {
    targets_.push_back(current[i].second);
    saved_.push_back(current[i].second.detach().clone());
    current[i].second.copy_(average.average_.at(i).second);
  }
}

WeightAverage::Applied::~Applied() {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < targets_.size(); ++i) targets_[i].copy_(saved_[i]);
}

}  // namespace deeplab::train
