#include "deeplab/models/heads/aspp.h"

#include <torch/torch.h>

#include "deeplab/models/layers/conv_bn_act.h"
#include "deeplab/models/layers/resize.h"
#include "deeplab/models/layers/separable_conv.h"

namespace deeplab::models {

namespace nn = torch::nn;

AsppImpl::AsppImpl(const AsppOptions& o) : projection_only_(o.projection_only()) {
  const int64_t in = o.in_channels(), ch = o.channels();
  if (projection_only_) {
    project_ = register_module("project",
                               nn::Sequential(same_conv(in, ch, 1), make_norm(ch), nn::ReLU(nn::ReLUOptions(true))));
    return;
  }
  convs_ = register_module("convs", nn::ModuleList());
  auto add_branch = [&](nn::AnyModule branch) {
    convs_->push_back(branch.ptr());
    branches_.push_back(std::move(branch));
  };
  add_branch(nn::AnyModule(conv_bn_act(ConvBnActOptions(in, ch, 1))));
  for (const int64_t rate : o.rates()) {
    if (o.separable()) {
      add_branch(nn::AnyModule(SeparableConv(SeparableConvOptions(in, ch).dilation(rate))));
    } else {
      add_branch(nn::AnyModule(conv_bn_act(ConvBnActOptions(in, ch, 3).dilation(rate))));
    }
  }
  // Image pooling: global context, broadcast back over the feature map.
  pooling_ = nn::Sequential(nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions(1)), same_conv(in, ch, 1), make_norm(ch),
                            nn::ReLU(nn::ReLUOptions(true)));
  convs_->push_back(pooling_);
  const int64_t branches = static_cast<int64_t>(o.rates().size()) + 2;
  project_ = register_module(
      "project", nn::Sequential(same_conv(branches * ch, ch, 1), make_norm(ch), nn::ReLU(nn::ReLUOptions(true)),
                                nn::Dropout(nn::DropoutOptions(o.dropout()))));
}

torch::Tensor AsppImpl::forward(const torch::Tensor& x) {
  if (projection_only_) return project_->forward(x);
  std::vector<torch::Tensor> outputs;
  for (auto& branch : branches_) outputs.push_back(branch.forward(x));
  outputs.push_back(resize_bilinear(pooling_->forward(x), x, /*align_corners=*/false));
  return project_->forward(torch::cat(outputs, 1));
}

}  // namespace deeplab::models
