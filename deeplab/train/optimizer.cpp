#include "deeplab/train/optimizer.h"

#include <torch/torch.h>

#include <map>
#include <set>

#include "deeplab/core/error.h"
#include "deeplab/core/named_table.h"
#include "deeplab/models/layers/norm.h"

namespace deeplab::train {
namespace {

using TensorSet = std::set<const torch::TensorImpl*>;

TensorSet norm_parameters(torch::nn::Module& model) {
  TensorSet norm;
  for (const auto& module : model.modules()) {
    if (!models::is_norm_layer(*module)) continue;
    for (const auto& p : module->parameters(false)) norm.insert(p.unsafeGetTensorImpl());
  }
  return norm;
}

using Groups = std::vector<torch::optim::OptimizerParamGroup>;

// One optimizer kind: its per-group options and the optimizer over the groups.
struct OptimizerKind {
  std::unique_ptr<torch::optim::OptimizerOptions> (*options)(const OptimizerConfig&, double lr, double decay);
  std::unique_ptr<torch::optim::Optimizer> (*build)(const Groups&, const torch::optim::OptimizerOptions& defaults);
};

template <class Options, class Optimizer>
std::unique_ptr<torch::optim::Optimizer> build_as(const Groups& groups,
                                                  const torch::optim::OptimizerOptions& defaults) {
  return std::make_unique<Optimizer>(groups, static_cast<const Options&>(defaults));
}

std::unique_ptr<torch::optim::OptimizerOptions> sgd_options(const OptimizerConfig& c, double lr, double decay) {
  return std::make_unique<torch::optim::SGDOptions>(
      torch::optim::SGDOptions(lr).momentum(c.momentum).nesterov(c.nesterov).weight_decay(decay));
}

std::unique_ptr<torch::optim::OptimizerOptions> adam_options(const OptimizerConfig& c, double lr, double decay) {
  return std::make_unique<torch::optim::AdamOptions>(
      torch::optim::AdamOptions(lr).betas({c.momentum, c.beta2}).eps(c.eps).weight_decay(decay));
}

std::unique_ptr<torch::optim::OptimizerOptions> adamw_options(const OptimizerConfig& c, double lr, double decay) {
  return std::make_unique<torch::optim::AdamWOptions>(
      torch::optim::AdamWOptions(lr).betas({c.momentum, c.beta2}).eps(c.eps).weight_decay(decay));
}

// The one list of optimizers: train.optimizer.name validation reads its names.
const core::NamedTable<OptimizerKind>& optimizer_table() {
  static const core::NamedTable<OptimizerKind> table = {
      {"sgd", {sgd_options, build_as<torch::optim::SGDOptions, torch::optim::SGD>}},
      {"adam", {adam_options, build_as<torch::optim::AdamOptions, torch::optim::Adam>}},
      {"adamw", {adamw_options, build_as<torch::optim::AdamWOptions, torch::optim::AdamW>}},
  };
  return table;
}

const OptimizerKind& optimizer_kind(const std::string& name) {
  if (const OptimizerKind* kind = core::table_find(optimizer_table(), name)) return *kind;
  throw ConfigError("train.optimizer.name: '" + name + "' is not an optimizer");
}

}  // namespace

std::vector<std::string> optimizer_names() { return core::table_names(optimizer_table()); }

GroupedOptimizer::GroupedOptimizer(torch::nn::Module& model, const std::vector<torch::Tensor>& head,
                                   const TrainConfig& config) {
  const OptimizerConfig& c = config.optimizer;
  const OptimizerKind& kind = optimizer_kind(c.name);
  const auto norm = norm_parameters(model);
  TensorSet head_set;
  for (const auto& p : head) head_set.insert(p.unsafeGetTensorImpl());
  // (head?, no decay?) -> parameters, in registration order for a stable layout.
  std::map<std::pair<bool, bool>, std::vector<torch::Tensor>> groups;
  for (const auto& item : model.named_parameters()) {
    if (!item.value().requires_grad()) continue;
    const std::string& key = item.key();
    const bool bias = key.size() >= 5 && key.compare(key.size() - 5, 5, ".bias") == 0;
    const bool no_decay = c.no_decay_norm_bias && (norm.count(item.value().unsafeGetTensorImpl()) > 0 || bias);
    groups[{head_set.count(item.value().unsafeGetTensorImpl()) > 0, no_decay}].push_back(item.value());
  }
  Groups param_groups;
  for (auto& [key, params] : groups) {
    param_groups.emplace_back(params, kind.options(c, config.lr, key.second ? 0.0 : c.weight_decay));
    multipliers_.push_back(key.first ? c.head_lr_mult : c.backbone_lr_mult);
  }
  optimizer_ = kind.build(param_groups, *kind.options(c, config.lr, c.weight_decay));
}

void GroupedOptimizer::set_lr(double base_lr) {
  auto& groups = optimizer_->param_groups();
  for (size_t i = 0; i < groups.size(); ++i) groups[i].options().set_lr(base_lr * multipliers_[i]);
}

double GroupedOptimizer::group_lr(size_t group) const { return optimizer_->param_groups()[group].options().get_lr(); }

}  // namespace deeplab::train
