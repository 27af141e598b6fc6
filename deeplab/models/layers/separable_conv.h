#pragma once
// Atrous separable convolution: depthwise 3x3 (dilated) -> BN [-> ReLU] ->
// pointwise 1x1 -> BN [-> ReLU], as DeepLabv3+ and Xception use it.

#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>

#include "deeplab/models/layers/norm.h"

namespace deeplab::models {

struct SeparableConvOptions {
  SeparableConvOptions(int64_t in, int64_t out) : in_channels_(in), out_channels_(out) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_channels);
  TORCH_ARG(int64_t, kernel) = 3;
  TORCH_ARG(int64_t, stride) = 1;
  TORCH_ARG(int64_t, dilation) = 1;
  /// ReLU after each BN (DeepLabv3+ heads, Xception's last exit block);
  /// without it the convs end in BN only (Xception's other units).
  TORCH_ARG(bool, relu_after_bn) = true;
  TORCH_ARG(double, bn_eps) = 1e-5;
};

/// depthwise -> bn_depthwise -> pointwise -> bn_pointwise (ReLUs optional).
class SeparableConvImpl : public torch::nn::Module {
 public:
  explicit SeparableConvImpl(const SeparableConvOptions& options);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  SeparableConvOptions options_;
  torch::nn::Conv2d depthwise_{nullptr}, pointwise_{nullptr};
  Norm2d bn_depthwise_{nullptr}, bn_pointwise_{nullptr};
};
TORCH_MODULE(SeparableConv);

}  // namespace deeplab::models
