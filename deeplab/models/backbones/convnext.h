#pragma once
// ConvNeXt (Liu et al., CVPR 2022) as the kMaX-DeepLab paper uses it and
// deeplab2 builds it (model/pixel_encoder/convnext.py), in torchvision's
// layout and names, so torchvision's ImageNet files load as they are:
//   0        stem: 4x4 conv, stride 4 (with bias) + channel LayerNorm
//   1 3 5 7  stages of ConvNeXt blocks: 7x7 depthwise conv -> LayerNorm ->
//            linear 4x -> GELU -> linear back -> x layer scale (1e-6 at
//            the start) -> drop path -> + input
//   2 4 6    downsampling: channel LayerNorm + 2x2 conv, stride 2
// Variants (depths, widths): tiny (3, 3, 9, 3; 96 ... 768), small (3, 3,
// 27, 3; 96 ...), base (128 ... 1024), large (192 ... 1536).  Features: res1
// (the stem's output, /4: what deeplab2's kMaX pixel decoder reads as its
// "stage1" on Cityscapes), res2 (/4), res3 (/8), res4 (/16), res5 (/32),
// each through GELU (deeplab2's res<k> endpoints).  Stride 32 only.
// pad_for_downstream (deeplab2's zero_padding_for_downstream) zero-pads the
// input by 1 / 2 (top-left / bottom-right) before the stem and each
// downsampling by 0 / 1, so a stride-s feature of an H-pixel input has
// ceil(H / s) rows as in the other backbones; torchvision does not pad.

#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include <string>
#include <vector>

#include "deeplab/models/backbones/backbone.h"
#include "deeplab/models/layers/conv_bn_act.h"

namespace deeplab::models {

struct ConvNeXtOptions {
  explicit ConvNeXtOptions(std::string variant) : variant_(std::move(variant)) {}
  TORCH_ARG(std::string, variant);  // tiny | small | base | large
  /// The last block's probability of keeping its residual branch; earlier
  /// blocks keep more, linearly from 1 (deeplab2's linspace(1, keep)).
  TORCH_ARG(double, drop_path_keep) = 1.0;
  TORCH_ARG(double, layer_scale_init) = 1e-6;
  TORCH_ARG(bool, pad_for_downstream) = true;
};

/// LayerNorm over the channels of an NCHW tensor (torchvision's LayerNorm2d).
class ChannelLayerNormImpl : public torch::nn::Module {
 public:
  explicit ChannelLayerNormImpl(int64_t channels);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::Tensor weight_, bias_;
};
TORCH_MODULE(ChannelLayerNorm);

/// torchvision's CNBlock: parameters block.0 (depthwise), block.2 (LayerNorm),
/// block.3 and block.5 (linears) and layer_scale.
class ConvNeXtBlockImpl : public torch::nn::Module {
 public:
  ConvNeXtBlockImpl(int64_t channels, double layer_scale_init, double drop_path_keep);
  torch::Tensor forward(const torch::Tensor& x);
  double drop_path_keep() const { return drop_path_keep_; }

 private:
  torch::nn::Conv2d depthwise_{nullptr};
  torch::nn::LayerNorm norm_{nullptr};
  torch::nn::Linear expand_{nullptr}, project_{nullptr};
  torch::Tensor layer_scale_;
  double drop_path_keep_;
};
TORCH_MODULE(ConvNeXtBlock);

class ConvNeXtImpl : public BackboneImpl {
 public:
  explicit ConvNeXtImpl(const ConvNeXtOptions& options);
  std::vector<FeatureSpec> feature_specs() const override { return specs_; }
  Features forward(const torch::Tensor& x) override;
  std::string out_name() const override { return "res5"; }
  std::string low_level_name() const override { return "res2"; }
  std::string mid_level_name() const override { return "res3"; }
  std::string aux_name() const override { return "res4"; }

 private:
  ConvNeXtOptions options_;
  std::vector<Chain> layers_;  // torchvision's features.0 ... 7
  std::vector<FeatureSpec> specs_;
};
TORCH_MODULE(ConvNeXt);

/// The depths and widths of a variant; throws naming it when unknown.
void convnext_variant(const std::string& variant, std::vector<int64_t>& depths, std::vector<int64_t>& widths);

}  // namespace deeplab::models
