#include "deeplab/models/layers/norm.h"

#include <torch/torch.h>

#include "deeplab/core/error.h"
#include "deeplab/core/process_group.h"
#include "deeplab/models/layers/sync_batch_norm.h"

namespace deeplab::models {

const std::vector<std::string>& norm_mode_names() {
  static const std::vector<std::string> names{"bn", "frozen_bn", "sync_bn"};
  return names;
}

NormMode parse_norm_mode(const std::string& name) {
  if (name == "bn") return NormMode::kBatch;
  if (name == "frozen_bn") return NormMode::kFrozen;
  if (name == "sync_bn") return NormMode::kSync;
  throw ConfigError("model.norm: '" + name + "' is not a normalisation; expected bn, frozen_bn or sync_bn");
}

void Norm2dImpl::train(bool on) { BatchNormImplBase::train(on && mode_ != NormMode::kFrozen); }

void Norm2dImpl::_check_input_dim(const torch::Tensor& input) {
  TORCH_CHECK(input.dim() == 4, "Norm2d: expected a 4-D input (N, C, H, W), got ", input.dim(), "-D");
}

torch::Tensor Norm2dImpl::forward(const torch::Tensor& input) {
  if (folded_) {
    TORCH_CHECK(!is_training(),
                "Norm2d: a layer folded into its convolution is for inference only; rebuild the model to train");
    return input;
  }
  if (mode_ != NormMode::kSync || !is_training()) return BatchNormImplBase::forward(input);
  _check_input_dim(input);
  SyncBatchNormState state;
  state.eps = options.eps();
  if (options.track_running_stats()) {
    state.running_mean = running_mean;
    state.running_var = running_var;
    num_batches_tracked.add_(1);
    // momentum None: cumulative average, as torch's batch norm.
    state.momentum = options.momentum() ? *options.momentum() : 1.0 / num_batches_tracked.item<double>();
  }
  return sync_batch_norm(input, weight, bias, state, group_);
}

void Norm2dImpl::set_mode(NormMode mode) {
  mode_ = mode;
  const bool trainable = mode != NormMode::kFrozen;
  for (auto& p : parameters(/*recurse=*/false)) p.set_requires_grad(trainable);
  if (!trainable) train(false);
}

Norm2d make_norm(int64_t channels, double eps, double momentum) {
  return Norm2d(torch::nn::BatchNormOptions(channels).eps(eps).momentum(momentum));
}

bool is_norm_layer(const torch::nn::Module& module) {
  return dynamic_cast<const Norm2dImpl*>(&module) || dynamic_cast<const torch::nn::BatchNorm1dImpl*>(&module) ||
         dynamic_cast<const torch::nn::BatchNorm2dImpl*>(&module) ||
         dynamic_cast<const torch::nn::BatchNorm3dImpl*>(&module) ||
         dynamic_cast<const torch::nn::GroupNormImpl*>(&module) ||
         dynamic_cast<const torch::nn::LayerNormImpl*>(&module) ||
         dynamic_cast<const torch::nn::InstanceNorm2dImpl*>(&module);
}

void set_norm_mode(torch::nn::Module& model, NormMode mode) {
  for (const auto& module : model.modules()) {
    if (auto* norm = dynamic_cast<Norm2dImpl*>(module.get())) norm->set_mode(mode);
  }
}

void set_norm_hyperparameters(torch::nn::Module& model, double eps, double momentum) {
  for (const auto& module : model.modules()) {
    auto* norm = dynamic_cast<Norm2dImpl*>(module.get());
    if (!norm) continue;
    if (eps > 0) norm->options.eps(eps);
    if (momentum > 0) norm->options.momentum(momentum);
  }
}

void set_norm_process_group(torch::nn::Module& model, const std::shared_ptr<core::ProcessGroup>& group) {
  for (const auto& module : model.modules()) {
    if (auto* norm = dynamic_cast<Norm2dImpl*>(module.get())) norm->set_process_group(group);
  }
}

}  // namespace deeplab::models

template <>
void torch::nn::BatchNormImplBase<2, deeplab::models::Norm2dImpl>::pretty_print(std::ostream& stream) const {
  stream << "deeplab::models::Norm2d(" << options.num_features() << ", eps=" << options.eps()
         << ", momentum=" << (options.momentum() ? *options.momentum() : -1.0) << ")";
}
