#include "deeplab/models/layers/axial_block.h"

#include <torch/torch.h>

#include "deeplab/core/error.h"
#include "deeplab/models/layers/activation.h"

namespace deeplab::models {

namespace {
void check_activation(const std::string& name) {
  if (name != "relu" && name != "gelu") {
    throw Error("axial block: unknown activation '" + name + "'; expected relu or gelu");
  }
}
}  // namespace

torch::Tensor apply_activation(const std::string& name, const torch::Tensor& x) {
  check_activation(name);
  return name == "relu" ? torch::relu(x) : gelu_activation(x);
}

torch::Tensor drop_path(const torch::Tensor& x, double keep, bool training) {
  if (!training || keep >= 1.0) return x;
  std::vector<int64_t> shape(x.dim(), 1);
  shape[0] = x.size(0);
  const torch::Tensor kept = torch::floor(keep + torch::rand(shape, x.options()));
  return x * kept / keep;
}

AxialBlockImpl::AxialBlockImpl(const AxialBlockOptions& o) : options_(o) {
  check_activation(o.activation());
  const int64_t width = o.axial() ? 2 * o.filters() : o.filters();
  const int64_t out = 4 * o.filters();
  conv1_ = register_module("conv1", conv_bn_act(ConvBnActOptions(o.in_channels(), width, 1).activation("")));
  int64_t conv3_in = o.filters();
  if (o.axial()) {
    attention_ = register_module("attention", AxialAttention2D(width, o.filters(), o.stride()));
    conv3_in = attention_->out_channels();
  } else {
    conv2_ = register_module(
        "conv2",
        conv_bn_act(ConvBnActOptions(width, o.filters(), 3).stride(o.stride()).dilation(o.dilation()).activation("")));
  }
  conv3_ = register_module("conv3", conv_bn_act(ConvBnActOptions(conv3_in, out, 1).activation("")));
  // gamma 0: the residual branch starts silent (deeplab2's bn_gamma_initializer='zeros').
  for (auto& p : conv3_->named_parameters()) {
    if (p.key() == "1.weight") torch::nn::init::zeros_(p.value());
  }
  if (o.in_channels() != out) {
    shortcut_ = register_module(
        "shortcut", conv_bn_act(ConvBnActOptions(o.in_channels(), out, 1).stride(o.stride()).activation("")));
  }
}

torch::Tensor AxialBlockImpl::forward(const torch::Tensor& x) {
  const std::string& act = options_.activation();
  const torch::Tensor input = apply_activation(act, x);
  torch::Tensor shortcut = input;
  if (!shortcut_.is_empty()) {
    shortcut = shortcut_->forward(input);
  } else if (options_.stride() > 1) {
    shortcut = input.slice(2, 0, c10::nullopt, options_.stride()).slice(3, 0, c10::nullopt, options_.stride());
  }
  torch::Tensor y = apply_activation(act, conv1_->forward(input));
  y = attention_.is_empty() ? conv2_->forward(y) : attention_->forward(y);
  y = conv3_->forward(apply_activation(act, y));
  return drop_path(y, options_.drop_path_keep(), is_training()) + shortcut;
}

}  // namespace deeplab::models
