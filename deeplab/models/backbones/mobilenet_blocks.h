#pragma once
// Inverted residual blocks of MobileNet-V2 and -V3 (torchvision layouts:
// V2 `conv.<i>`, V3 `block.<i>` with an optional squeeze-excitation).

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>

#include <string>

namespace deeplab::models {

/// MobileNet-V2 unit: [1x1 expand] -> 3x3 depthwise -> 1x1 project + BN.
class InvertedResidualV2Impl : public torch::nn::Module {
 public:
  InvertedResidualV2Impl(int64_t in, int64_t out, int64_t stride, int64_t dilation, int64_t expand_ratio);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Sequential conv_{nullptr};
  bool residual_;
};
TORCH_MODULE(InvertedResidualV2);

/// MobileNet-V3 squeeze-excitation: avgpool -> fc1 -> ReLU -> fc2 -> hardsigmoid.
class SqueezeExcitationImpl : public torch::nn::Module {
 public:
  SqueezeExcitationImpl(int64_t channels, int64_t squeeze);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Conv2d fc1_{nullptr}, fc2_{nullptr};
};
TORCH_MODULE(SqueezeExcitation);

struct BlockV3Config {
  int64_t in, kernel, expanded, out;
  bool squeeze_excite;
  std::string activation;  // relu or hardswish
  int64_t stride, dilation;
};

/// MobileNet-V3 unit: [1x1 expand] -> kxk depthwise -> [SE] -> 1x1 project.
class InvertedResidualV3Impl : public torch::nn::Module {
 public:
  explicit InvertedResidualV3Impl(const BlockV3Config& config);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Sequential block_{nullptr};
  bool residual_;
};
TORCH_MODULE(InvertedResidualV3);

}  // namespace deeplab::models
