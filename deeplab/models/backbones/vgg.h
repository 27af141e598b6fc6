#pragma once
// VGG-16 with torchvision's `features` indices (0, 2, 5, ... 28 are convs).
// Two layouts: torchvision's as is (output stride 32, for parity and import),
// and DeepLab-LargeFOV's (every pool 3x3 pad 1, pool4/5 stride 1, conv5
// dilation 2, then a 3x3 average pool: output stride 8; other strides by the
// same rule: a pool past the output stride keeps stride 1 and the convs after
// it dilate).

#include <torch/nn/modules/container/any.h>

#include <string>
#include <vector>

#include "deeplab/models/backbones/backbone.h"

namespace deeplab::models {

struct VggOptions {
  /// "largefov" (DeepLab v1/v2) or "torchvision".
  TORCH_ARG(std::string, layout) = "largefov";
  /// largefov: 8 (the paper), 16 or 32; torchvision: 32 only.
  TORCH_ARG(int64_t, output_stride) = 8;
  /// largefov: end with DeepLab-LargeFOV's pool5a (3x3 average pooling,
  /// stride 1); DeepLab v2's prototxt feeds pool5 straight to its ASPP-L.
  TORCH_ARG(bool, pool5a) = true;
};

/// Features: low_level (pool2, /4), mid_level (pool3, /8), aux (conv4_3, /8), out (last pool).
class VggImpl : public BackboneImpl {
 public:
  explicit VggImpl(const VggOptions& options);
  std::vector<FeatureSpec> feature_specs() const override { return specs_; }
  Features forward(const torch::Tensor& x) override;
  /// The stride this layout yields (8 for largefov, 32 for torchvision).
  int64_t output_stride() const { return specs_.back().stride; }
  /// DeepLab-LargeFOV keeps every 4th unit of VGG's 4096-wide fc6/fc7.
  int64_t fc_channels() const override { return 1024; }

 private:
  void add(torch::nn::AnyModule layer);

  std::vector<torch::nn::AnyModule> layers_;
  std::vector<std::pair<size_t, std::string>> taps_;  // layer index -> feature
  std::vector<FeatureSpec> specs_;
};
TORCH_MODULE(Vgg);

}  // namespace deeplab::models
