#include "deeplab/train/optimizer.h"

#include <torch/torch.h>

#include <map>
#include <set>

namespace deeplab::train {
namespace {

std::set<const torch::TensorImpl*> norm_parameters(torch::nn::Module& model) {
  std::set<const torch::TensorImpl*> norm;
  for (const auto& item : model.named_modules()) {
    if (dynamic_cast<torch::nn::BatchNorm2dImpl*>(item.value().get()) ||
        dynamic_cast<torch::nn::GroupNormImpl*>(item.value().get())) {
      for (const auto& p : item.value()->parameters(false)) norm.insert(p.unsafeGetTensorImpl());
    }
  }
  return norm;
}

bool is_head(const std::string& name) {
  return name.rfind("classifier.", 0) == 0 || name.rfind("aux_classifier.", 0) == 0;
}

std::unique_ptr<torch::optim::OptimizerOptions> group_options(const OptimizerConfig& c, double lr, double decay) {
  if (c.name == "adam") {
    return std::make_unique<torch::optim::AdamOptions>(
        torch::optim::AdamOptions(lr).betas({c.momentum, c.beta2}).weight_decay(decay));
  }
  if (c.name == "adamw") {
    return std::make_unique<torch::optim::AdamWOptions>(
        torch::optim::AdamWOptions(lr).betas({c.momentum, c.beta2}).weight_decay(decay));
  }
  return std::make_unique<torch::optim::SGDOptions>(
      torch::optim::SGDOptions(lr).momentum(c.momentum).nesterov(c.nesterov).weight_decay(decay));
}

}  // namespace

GroupedOptimizer::GroupedOptimizer(torch::nn::Module& model, const TrainConfig& config) {
  const OptimizerConfig& c = config.optimizer;
  const auto norm = norm_parameters(model);
  // (head?, no decay?) -> parameters, in registration order for a stable layout.
  std::map<std::pair<bool, bool>, std::vector<torch::Tensor>> groups;
  for (const auto& item : model.named_parameters()) {
    if (!item.value().requires_grad()) continue;
    const std::string& key = item.key();
    const bool bias = key.size() >= 5 && key.compare(key.size() - 5, 5, ".bias") == 0;
    const bool no_decay = c.no_decay_norm_bias && (norm.count(item.value().unsafeGetTensorImpl()) > 0 || bias);
    groups[{is_head(item.key()), no_decay}].push_back(item.value());
  }
  std::vector<torch::optim::OptimizerParamGroup> param_groups;
  for (auto& [key, params] : groups) {
    param_groups.emplace_back(params, group_options(c, config.lr, key.second ? 0.0 : c.weight_decay));
    multipliers_.push_back(key.first ? c.head_lr_mult : 1.0);
  }
  auto defaults = group_options(c, config.lr, c.weight_decay);
  if (c.name == "adam") {
    optimizer_ = std::make_unique<torch::optim::Adam>(param_groups, static_cast<torch::optim::AdamOptions&>(*defaults));
  } else if (c.name == "adamw") {
    optimizer_ =
        std::make_unique<torch::optim::AdamW>(param_groups, static_cast<torch::optim::AdamWOptions&>(*defaults));
  } else {
    optimizer_ = std::make_unique<torch::optim::SGD>(param_groups, static_cast<torch::optim::SGDOptions&>(*defaults));
  }
}

void GroupedOptimizer::set_lr(double base_lr) {
  auto& groups = optimizer_->param_groups();
  for (size_t i = 0; i < groups.size(); ++i) groups[i].options().set_lr(base_lr * multipliers_[i]);
}

double GroupedOptimizer::group_lr(size_t group) const { return optimizer_->param_groups()[group].options().get_lr(); }

}  // namespace deeplab::train
