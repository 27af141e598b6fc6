#pragma once
// ResNet-50/101 with torchvision parameter names (conv1, bn1, layer1..4,
// Bottleneck conv1/conv2/conv3, downsample.0/1), output stride 8/16/32, two
// dilation rules, DeepLab's deep stem and DeepLabv3's cascaded blocks.

#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/pooling.h>

#include <string>
#include <vector>

#include "deeplab/models/backbones/backbone.h"
#include "deeplab/models/layers/norm.h"

namespace deeplab::models {

struct ResNetOptions {
  explicit ResNetOptions(int64_t depth) : depth_(depth) {}
  TORCH_ARG(int64_t, depth);  // 50 or 101
  TORCH_ARG(int64_t, output_stride) = 32;
  /// "torchvision": the first block of a dilated stage keeps the previous
  /// dilation (replace_stride_with_dilation). "paper": every unit of a
  /// dilated stage uses the new rate, times multi_grid in the last stage.
  TORCH_ARG(std::string, dilation_rule) = "torchvision";
  TORCH_ARG(std::vector<int64_t>, multi_grid) = std::vector<int64_t>{1, 1, 1};
  /// DeepLab's "beta" stem: three 3x3 convs (64, 64, 128) instead of the 7x7.
  TORCH_ARG(bool, deep_stem) = false;
  /// DeepLabv3 cascade: copies of block4 (layer5..) with doubling rates.
  TORCH_ARG(int64_t, cascade_blocks) = 0;
  /// false: kMaX-DeepLab's ResNet (deeplab2's "resnet"): no max-pool after
  /// the stem, the first unit of layer1 strided instead, and the stem's
  /// activated output as a stride-2 feature "stem".  The parameters and
  /// their names stay torchvision's, so its ImageNet weights load.
  TORCH_ARG(bool, stem_pool) = true;
};

/// Bottleneck residual unit (stride on the 3x3 conv, as torchvision's v1.5).
class BottleneckImpl : public torch::nn::Module {
 public:
  BottleneckImpl(int64_t in, int64_t planes, int64_t stride, int64_t dilation, bool project);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr};
  Norm2d bn1_{nullptr}, bn2_{nullptr}, bn3_{nullptr};
  torch::nn::Sequential downsample_{nullptr};
};
TORCH_MODULE(Bottleneck);

/// Features: low_level (layer1, /4), mid_level (layer2, /8), aux (layer3), out
/// (last stage); without the stem pool also "stem" (/2).
class ResNetImpl : public BackboneImpl {
 public:
  explicit ResNetImpl(const ResNetOptions& options);
  std::vector<FeatureSpec> feature_specs() const override { return specs_; }
  Features forward(const torch::Tensor& x) override;

 private:
  void build_stem();
  torch::nn::Sequential make_stage(int64_t planes, int64_t blocks, int64_t stride, StrideTracker& tracker,
                                   bool last_stage);

  ResNetOptions options_;
  int64_t in_channels_ = 64;
  torch::nn::Conv2d conv1_{nullptr};
  torch::nn::Sequential deep_stem_{nullptr};
  Norm2d bn1_{nullptr};
  torch::nn::MaxPool2d maxpool_{nullptr};
  std::vector<torch::nn::Sequential> stages_;
  std::vector<FeatureSpec> specs_;
};
TORCH_MODULE(ResNet);

}  // namespace deeplab::models
