// Small building blocks shared by backbones and heads.

#include <torch/torch.h>

#include "deeplab/core/error.h"
#include "deeplab/models/layers/activation.h"
#include "deeplab/models/layers/conv_bn_act.h"
#include "deeplab/models/layers/separable_conv.h"

namespace deeplab::models {

namespace nn = torch::nn;

torch::Tensor ReLU6Impl::forward(torch::Tensor x) {
  if (x.scalar_type() == torch::kBFloat16) return torch::clamp(x, 0, 6);
  return torch::hardtanh_(x, 0, 6);
}

torch::Tensor HardSwishImpl::forward(torch::Tensor x) { return torch::hardswish_(x); }
torch::Tensor HardSigmoidImpl::forward(const torch::Tensor& x) { return torch::hardsigmoid(x); }

torch::Tensor gelu_activation(const torch::Tensor& x) {
  torch::Tensor y = torch::gelu(x);
  if (torch::GradMode::is_enabled() && y.requires_grad()) {
    y.register_hook([](const torch::Tensor& grad) { return grad.contiguous(); });
  }
  return y;
}

nn::AnyModule make_activation(const std::string& name) {
  if (name == "relu") return nn::AnyModule(nn::ReLU(nn::ReLUOptions(true)));
  if (name == "relu6") return nn::AnyModule(ReLU6());
  if (name == "hardswish") return nn::AnyModule(HardSwish());
  if (name == "gelu") return nn::AnyModule(Gelu());
  throw Error("unknown activation '" + name + "'; expected relu, relu6, hardswish or gelu");
}

nn::Conv2d same_conv(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t dilation, bool bias,
                     int64_t groups) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, kernel)
                        .stride(stride)
                        .padding((kernel - 1) / 2 * dilation)
                        .dilation(dilation)
                        .groups(groups)
                        .bias(bias));
}

Chain conv_bn_act(const ConvBnActOptions& o) {
  Chain seq;
  seq->push_back(same_conv(o.in_channels(), o.out_channels(), o.kernel(), o.stride(), o.dilation(), false, o.groups()));
  seq->push_back(make_norm(o.out_channels(), o.bn_eps(), o.bn_momentum()));
  if (!o.activation().empty()) seq->push_back(make_activation(o.activation()));
  return seq;
}

SeparableConvImpl::SeparableConvImpl(const SeparableConvOptions& o) : options_(o) {
  const int64_t in = o.in_channels();
  depthwise_ = register_module("depthwise", same_conv(in, in, o.kernel(), o.stride(), o.dilation(), false, in));
  bn_depthwise_ = register_module("bn_depthwise", make_norm(in, o.bn_eps()));
  pointwise_ = register_module("pointwise", same_conv(in, o.out_channels(), 1));
  bn_pointwise_ = register_module("bn_pointwise", make_norm(o.out_channels(), o.bn_eps()));
}

torch::Tensor SeparableConvImpl::forward(const torch::Tensor& x) {
  auto y = bn_depthwise_->forward(depthwise_->forward(x));
  if (options_.relu_after_bn()) y = torch::relu_(y);  // in place: a BN output nothing else reads
  y = bn_pointwise_->forward(pointwise_->forward(y));
  if (options_.relu_after_bn()) y = torch::relu_(y);
  return y;
}

}  // namespace deeplab::models
