#pragma once
// The heads of each DeepLab version.  Children are registered as "0", "1",
// ... where torchvision has a Sequential, so parameter names match it.

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>

#include <string>
#include <vector>

#include "deeplab/models/heads/aspp.h"
#include "deeplab/models/heads/head.h"
#include "deeplab/models/layers/conv_bn_act.h"

namespace deeplab::models {

/// DeepLabv1 LargeFOV: fc6 (3x3, rate 12, `hidden` = 1024) -> fc7 (1x1) -> fc8,
/// dropout 0.5.  On VGG (`fc_from_imagenet`) fc6/fc7 start from its ImageNet
/// classifier and only fc8 is new.
class LargeFovHeadImpl : public HeadImpl {
 public:
  LargeFovHeadImpl(const FeatureSpec& in, int64_t num_classes, int64_t hidden, bool fc_from_imagenet);
  torch::Tensor forward(const Features& features) override;
  std::vector<torch::Tensor> new_parameters() override;
  std::vector<std::pair<std::string, std::string>> imagenet_fc_layers() const override;

 private:
  std::string feature_;
  bool fc_from_imagenet_;
  torch::nn::Sequential layers_{nullptr};
};
TORCH_MODULE(LargeFovHead);

/// DeepLabv2 ASPP-L: parallel atrous branches (rates 6, 12, 18, 24), each
/// ending in its own classifier; their logits are summed.  `hidden` > 0 gives
/// VGG's fc6/fc7 (1024, from ImageNet) + a new fc8 per branch; 0 gives
/// ResNet's single new 3x3 classifier per branch.
class AsppSumHeadImpl : public HeadImpl {
 public:
  AsppSumHeadImpl(const FeatureSpec& in, int64_t num_classes, std::vector<int64_t> rates, int64_t hidden);
  torch::Tensor forward(const Features& features) override;
  std::vector<torch::Tensor> new_parameters() override;
  std::vector<std::pair<std::string, std::string>> imagenet_fc_layers() const override;

 private:
  std::string feature_;
  bool has_fc_ = false;
  std::vector<torch::nn::Sequential> branches_;
};
TORCH_MODULE(AsppSumHead);

struct DeepLabV3HeadOptions {
  DeepLabV3HeadOptions(FeatureSpec in, int64_t num_classes) : in_(std::move(in)), num_classes_(num_classes) {}
  TORCH_ARG(FeatureSpec, in);
  TORCH_ARG(int64_t, num_classes);
  TORCH_ARG(std::vector<int64_t>, rates) = std::vector<int64_t>{6, 12, 18};
  TORCH_ARG(int64_t, channels) = 256;
  TORCH_ARG(double, dropout) = 0.1;
  TORCH_ARG(bool, separable) = false;
  /// torchvision's DeepLabHead adds a 3x3 conv + BN + ReLU before the classifier.
  TORCH_ARG(bool, torchvision_style) = false;
};

/// DeepLabv3: ASPP ("0") [-> 3x3 conv, BN, ReLU ("1".."3")] -> 1x1 classifier.
class DeepLabV3HeadImpl : public HeadImpl {
 public:
  explicit DeepLabV3HeadImpl(const DeepLabV3HeadOptions& options);
  torch::Tensor forward(const Features& features) override;

 private:
  std::string feature_;
  torch::nn::Sequential layers_{nullptr};
};
TORCH_MODULE(DeepLabV3Head);

/// torchvision's FCNHead (auxiliary loss): 3x3 to in/4, BN, ReLU, dropout 0.1, 1x1.
torch::nn::Sequential make_fcn_head(int64_t in_channels, int64_t num_classes);

}  // namespace deeplab::models
