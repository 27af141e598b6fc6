#pragma once
// Conv -> norm (Norm2d) -> activation as a Sequential indexed 0/1/2, the layout
// (and so the parameter names) of torchvision's Conv2dNormActivation.

#include <torch/nn/modules/container/sequential.h>

#include <string>

#include "deeplab/models/layers/norm.h"

namespace deeplab::models {

/// A Sequential with a plain Tensor -> Tensor forward, so it can nest inside
/// other Sequentials and AnyModules (nn::Sequential's templated forward cannot).
class ChainImpl : public torch::nn::SequentialImpl {
 public:
  using SequentialImpl::SequentialImpl;
  torch::Tensor forward(torch::Tensor x) { return SequentialImpl::forward(std::move(x)); }
};
TORCH_MODULE(Chain);

struct ConvBnActOptions {
  ConvBnActOptions(int64_t in, int64_t out, int64_t kernel) : in_channels_(in), out_channels_(out), kernel_(kernel) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_channels);
  TORCH_ARG(int64_t, kernel);
  TORCH_ARG(int64_t, stride) = 1;
  TORCH_ARG(int64_t, dilation) = 1;
  TORCH_ARG(int64_t, groups) = 1;
  /// "" for none (a projection), else relu / relu6 / hardswish.
  TORCH_ARG(std::string, activation) = "relu";
  TORCH_ARG(double, bn_eps) = 1e-5;
  TORCH_ARG(double, bn_momentum) = 0.1;
};

/// Conv (no bias, "same" padding for odd kernels) + BN [+ activation].
Chain conv_bn_act(const ConvBnActOptions& options);

/// A 2-D conv with "same" padding for its dilation: padding = (k - 1) / 2 * d.
torch::nn::Conv2d same_conv(int64_t in, int64_t out, int64_t kernel, int64_t stride = 1, int64_t dilation = 1,
                            bool bias = false, int64_t groups = 1);

}  // namespace deeplab::models
