#include "deeplab/models/backbones/mobilenet_blocks.h"

#include <torch/torch.h>

#include "deeplab/models/backbones/mobilenet.h"
#include "deeplab/models/layers/conv_bn_act.h"

namespace deeplab::models {

namespace nn = torch::nn;

namespace {
// MobileNet-V3 uses BN with eps 1e-3, momentum 0.01 (torchvision, from the paper's TF code).
ConvBnActOptions v3_conv(int64_t in, int64_t out, int64_t kernel) {
  return ConvBnActOptions(in, out, kernel).bn_eps(1e-3).bn_momentum(0.01);
}
}  // namespace

InvertedResidualV2Impl::InvertedResidualV2Impl(int64_t in, int64_t out, int64_t stride, int64_t dilation,
                                               int64_t expand_ratio)
    : residual_(stride == 1 && in == out) {
  const int64_t hidden = in * expand_ratio;
  nn::Sequential conv;
  if (expand_ratio != 1) conv->push_back(conv_bn_act(ConvBnActOptions(in, hidden, 1).activation("relu6")));
  conv->push_back(conv_bn_act(
      ConvBnActOptions(hidden, hidden, 3).stride(stride).dilation(dilation).groups(hidden).activation("relu6")));
  conv->push_back(same_conv(hidden, out, 1));
  conv->push_back(make_norm(out));
  conv_ = register_module("conv", conv);
}

// The residual adds into the block's output in place (torchvision:
// `result += input`): the projection BN's output, which nothing else reads.
torch::Tensor InvertedResidualV2Impl::forward(const torch::Tensor& x) {
  auto y = conv_->forward(x);
  return residual_ ? y.add_(x) : y;
}

SqueezeExcitationImpl::SqueezeExcitationImpl(int64_t channels, int64_t squeeze) {
  fc1_ = register_module("fc1", nn::Conv2d(nn::Conv2dOptions(channels, squeeze, 1)));
  fc2_ = register_module("fc2", nn::Conv2d(nn::Conv2dOptions(squeeze, channels, 1)));
}

torch::Tensor SqueezeExcitationImpl::forward(const torch::Tensor& x) {
  auto scale = torch::adaptive_avg_pool2d(x, {1, 1});
  scale = torch::hardsigmoid(fc2_->forward(torch::relu(fc1_->forward(scale))));
  return x * scale;
}

InvertedResidualV3Impl::InvertedResidualV3Impl(const BlockV3Config& c) : residual_(c.stride == 1 && c.in == c.out) {
  nn::Sequential block;
  if (c.expanded != c.in) block->push_back(conv_bn_act(v3_conv(c.in, c.expanded, 1).activation(c.activation)));
  // A dilated block drops its stride (torchvision: stride 1 whenever dilation > 1).
  const int64_t stride = c.dilation > 1 ? 1 : c.stride;
  block->push_back(conv_bn_act(v3_conv(c.expanded, c.expanded, c.kernel)
                                   .stride(stride)
                                   .dilation(c.dilation)
                                   .groups(c.expanded)
                                   .activation(c.activation)));
  if (c.squeeze_excite) {
    block->push_back(SqueezeExcitation(c.expanded, make_divisible(static_cast<double>(c.expanded / 4))));
  }
  block->push_back(conv_bn_act(v3_conv(c.expanded, c.out, 1).activation("")));
  block_ = register_module("block", block);
}

torch::Tensor InvertedResidualV3Impl::forward(const torch::Tensor& x) {
  auto y = block_->forward(x);
  return residual_ ? y.add_(x) : y;
}

}  // namespace deeplab::models
