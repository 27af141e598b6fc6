#pragma once
// kMaX-DeepLab's pixel decoder (Yu et al., ECCV 2022) as deeplab2's builder
// sets it: stages from stride 32 down to 4 (or 2), each a group of residual
// units (layers/axial_block.h, GELU) of width dims[i] ending on 4 x dims[i]:
//   stride 32: 1 axial unit, 512    stride 16: 5 axial units, 256
//   stride 8:  1 bottleneck, 128    stride 4:  1 bottleneck, 64
//   stride 2:  1 bottleneck, 32 (Cityscapes: high_resolution_output_stride 2)
// Every encoder feature is layer-normalised over its channels (eps 1e-6).
// Between stages a resized fuse brings the decoder output and the next
// encoder feature to that feature's size and dims[i + 1] channels (GELU ->
// 1x1 conv + BN where the width differs, bilinear resize with aligned
// corners) and adds them.  deeplab2 normalises its ResNet's stage sums before
// their activation; our torchvision-layout ResNet gives the activated ones.  The transformer decoder reads the outputs
// of the stride-32, 16 and 8 stages; the heads read the last stage's.

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/normalization.h>

#include <string>
#include <vector>

#include "deeplab/models/backbones/backbone.h"
#include "deeplab/models/layers/conv_bn_act.h"

namespace deeplab::models {

struct KMaXPixelDecoderOptions {
  /// The encoder features the stages fuse, from stride 32 down (one per stage).
  TORCH_ARG(std::vector<FeatureSpec>, encoder_levels);
  TORCH_ARG(std::vector<int64_t>, dims) = std::vector<int64_t>{512, 256, 128, 64};
  TORCH_ARG(std::vector<int64_t>, blocks) = std::vector<int64_t>{1, 5, 1, 1};
  /// Per stage: axial attention (true) or a 3x3 bottleneck.
  TORCH_ARG(std::vector<bool>, axial) = std::vector<bool>{true, true, false, false};
  /// Dilation of the bottleneck units' 3x3 convs: deeplab2 builds every
  /// decoder group as if at ResNet stride 32 with its default output stride
  /// 16 (kmax.py's original_resnet_input_stride=32), which gives them rate 2.
  TORCH_ARG(int64_t, bottleneck_dilation) = 2;
};

/// deeplab2's choice by output stride: 4 (COCO, ADE20K) or 2 (Cityscapes).
KMaXPixelDecoderOptions kmax_pixel_decoder_options(std::vector<FeatureSpec> encoder_levels,
                                                   int64_t high_resolution_stride);

class KMaXPixelDecoderImpl : public torch::nn::Module {
 public:
  explicit KMaXPixelDecoderImpl(const KMaXPixelDecoderOptions& options);
  /// Every stage's output, from stride 32 down ([N, 4 x dims[i], H_i, W_i]);
  /// the last is the decoder's output.
  std::vector<torch::Tensor> forward(const Features& encoder_features);
  /// Channels of stage i's output.
  int64_t out_channels(size_t stage) const { return 4 * options_.dims()[stage]; }

 private:
  torch::Tensor fuse(size_t stage, const torch::Tensor& decoder, const torch::Tensor& encoder);

  KMaXPixelDecoderOptions options_;
  std::vector<torch::nn::LayerNorm> encoder_norms_;
  std::vector<torch::nn::Sequential> stages_;
  // Per fuse: the 1x1 conv + BN of the decoder side and of the encoder side
  // (empty where that side already has the fuse's width).
  std::vector<Chain> fuse_decoder_, fuse_encoder_;
};
TORCH_MODULE(KMaXPixelDecoder);

}  // namespace deeplab::models
