#include "deeplab/models/layers/norm.h"

#include <torch/torch.h>

#include "deeplab/core/error.h"

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
  if (mode == NormMode::kSync) {
    throw ConfigError(
        "model.norm: sync_bn needs multi-process training, which this build does not have yet; use bn or frozen_bn");
  }
  for (const auto& module : model.modules()) {
    if (auto* norm = dynamic_cast<Norm2dImpl*>(module.get())) norm->set_mode(mode);
  }
}

}  // namespace deeplab::models

template <>
void torch::nn::BatchNormImplBase<2, deeplab::models::Norm2dImpl>::pretty_print(std::ostream& stream) const {
  stream << "deeplab::models::Norm2d(" << options.num_features() << ", eps=" << options.eps()
         << ", momentum=" << (options.momentum() ? *options.momentum() : -1.0) << ")";
}
