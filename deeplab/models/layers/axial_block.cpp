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

// gamma 0: the residual branch starts silent (deeplab2's bn_gamma_initializer='zeros').
void zero_norm_gamma(Chain& conv_bn) {
  for (auto& p : conv_bn->named_parameters()) {
    if (p.key() == "1.weight") torch::nn::init::zeros_(p.value());
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
  if (o.basic() && o.axial()) throw Error("axial block: a basic unit has no attention; basic and axial exclude");
  if (o.basic()) {
    build_basic();
  } else {
    build_bottleneck();
  }
  const int64_t out = out_channels();
  if (o.in_channels() != out) {
    shortcut_ = register_module(
        "shortcut", conv_bn_act(ConvBnActOptions(o.in_channels(), out, 1).stride(o.stride()).activation("")));
  }
}

void AxialBlockImpl::build_bottleneck() {
  const AxialBlockOptions& o = options_;
  const int64_t width = o.axial() ? o.attention_expansion() * o.filters() : o.filters();
  conv1_ = register_module("conv1", conv_bn_act(ConvBnActOptions(o.in_channels(), width, 1).activation("")));
  int64_t conv3_in = o.middle_expansion() * o.filters();
  if (o.axial()) {
    attention_ = register_module("attention", AxialAttention2D(width, o.key_expansion() * o.filters(),
                                                               o.value_expansion() * o.filters(), o.stride()));
    conv3_in = attention_->out_channels();
  } else {
    conv2_ = register_module(
        "conv2",
        conv_bn_act(ConvBnActOptions(width, conv3_in, 3).stride(o.stride()).dilation(o.dilation()).activation("")));
  }
  conv3_ = register_module("conv3", conv_bn_act(ConvBnActOptions(conv3_in, out_channels(), 1).activation("")));
  zero_norm_gamma(conv3_);
}

void AxialBlockImpl::build_basic() {
  const AxialBlockOptions& o = options_;
  const int64_t out = out_channels();
  const int64_t second_dilation = o.second_dilation() > 0 ? o.second_dilation() : o.dilation();
  conv1_ = register_module(
      "conv1",
      conv_bn_act(ConvBnActOptions(o.in_channels(), out, 3).stride(o.stride()).dilation(o.dilation()).activation("")));
  conv2_ =
      register_module("conv2", conv_bn_act(ConvBnActOptions(out, out, 3).dilation(second_dilation).activation("")));
  zero_norm_gamma(conv2_);
}

torch::Tensor AxialBlockImpl::residual(const torch::Tensor& activated) {
  const std::string& act = options_.activation();
  torch::Tensor y = apply_activation(act, conv1_->forward(activated));
  if (options_.basic()) return conv2_->forward(y);
  y = attention_.is_empty() ? conv2_->forward(y) : attention_->forward(y);
  return conv3_->forward(apply_activation(act, y));
}

torch::Tensor AxialBlockImpl::forward(const torch::Tensor& x) {
  const torch::Tensor input = apply_activation(options_.activation(), x);
  torch::Tensor shortcut = input;
  if (!shortcut_.is_empty()) {
    shortcut = shortcut_->forward(input);
  } else if (options_.stride() > 1) {
    shortcut = input.slice(2, 0, c10::nullopt, options_.stride()).slice(3, 0, c10::nullopt, options_.stride());
  }
  return drop_path(residual(input), options_.drop_path_keep(), is_training()) + shortcut;
}

}  // namespace deeplab::models
