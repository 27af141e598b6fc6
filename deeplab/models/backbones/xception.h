#pragma once
// Aligned Xception-65 / -71 as tensorflow/models research/deeplab/core/
// xception.py defines them (the checkpoints people use): strided separable
// convs instead of max-pools; ReLU *before* each separable conv with BN after
// depthwise and pointwise, except the last exit-flow unit (BN + ReLU after
// both); output stride 8/16/32 by exit-flow (and entry-flow) atrous rates.

#include <torch/nn/modules/conv.h>

#include <string>
#include <vector>

#include "deeplab/models/backbones/backbone.h"
#include "deeplab/models/layers/norm.h"
#include "deeplab/models/layers/separable_conv.h"

namespace deeplab::models {

struct XceptionOptions {
  explicit XceptionOptions(int64_t depth) : depth_(depth) {}
  TORCH_ARG(int64_t, depth);  // 65 or 71
  TORCH_ARG(int64_t, output_stride) = 16;
  /// Rates of the last exit-flow unit's three convs, times the running rate.
  TORCH_ARG(std::vector<int64_t>, multi_grid) = std::vector<int64_t>{1, 1, 1};
};

enum class SkipType { kConv, kSum, kNone };

struct XceptionUnitConfig {
  std::vector<int64_t> depths;  // three separable convs
  int64_t stride = 1;           // on the third conv
  SkipType skip = SkipType::kConv;
  bool relu_inside = false;  // BN+ReLU after each conv instead of ReLU before
};

/// One Xception module: three separable convs plus a shortcut.
class XceptionUnitImpl : public torch::nn::Module {
 public:
  XceptionUnitImpl(int64_t in, const XceptionUnitConfig& config, int64_t stride, std::vector<int64_t> rates);
  torch::Tensor forward(const torch::Tensor& x) { return forward_with_tap(x).first; }
  /// Output and the second conv's output (DeepLabv3+'s low-level tap).
  std::pair<torch::Tensor, torch::Tensor> forward_with_tap(const torch::Tensor& x);

 private:
  XceptionUnitConfig config_;
  std::vector<SeparableConv> convs_;
  torch::nn::Conv2d shortcut_{nullptr};
  Norm2d shortcut_bn_{nullptr};
};
TORCH_MODULE(XceptionUnit);

/// Features: low_level (/4, 256 ch), mid_level (/8, 256 ch), aux (end of middle flow), out (2048 ch).
class XceptionImpl : public BackboneImpl {
 public:
  explicit XceptionImpl(const XceptionOptions& options);
  std::vector<FeatureSpec> feature_specs() const override { return specs_; }
  Features forward(const torch::Tensor& x) override;

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  Norm2d bn1_{nullptr}, bn2_{nullptr};
  std::vector<XceptionUnit> units_;
  size_t low_level_unit_ = 0, aux_unit_ = 0;
  std::vector<FeatureSpec> specs_;
};
TORCH_MODULE(Xception);

}  // namespace deeplab::models
