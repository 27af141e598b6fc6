#pragma once
// The decoder family of DeepLabv3+ and Panoptic-DeepLab: ASPP on the deepest
// feature, then for each finer level (stride 8, stride 4, ...) a bilinear
// upsample, a 1x1 projection of the backbone feature, a concat and fuse
// convolutions; prediction heads read the finest fused map.
//
//   DeepLabv3+        one level (stride 4, projection 48), fuse = two 3x3
//                     convs (or separable) to 256, head = 1x1 classifier;
//   Panoptic-DeepLab  levels stride 8 then 4 (projections 64/32 semantic,
//                     32/16 instance), fuse = one 5x5 separable conv
//                     (256 / 128), heads = 5x5 separable + 1x1.
//
// Module names come from the options, so v3+ keeps its parameter names
// (aspp, low_level_project, fuse, classifier) and old weights load.

#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>

#include <string>
#include <vector>

#include "deeplab/models/heads/aspp.h"
#include "deeplab/models/heads/head.h"
#include "deeplab/models/layers/conv_bn_act.h"

namespace deeplab::models {

/// One fusion step: which backbone feature it reads and how it is fused.
struct DecoderLevel {
  FeatureSpec feature;
  int64_t projection = 48;  // 1x1 projection width of the feature
  int64_t channels = 256;   // width of the fused map
  std::string project_name = "low_level_project";
  std::string fuse_name = "fuse";
};

/// The fuse convolutions of every level.
struct FuseConvOptions {
  bool separable = false;  // depthwise-separable (dw + BN + ReLU, pw + BN + ReLU) or plain conv + BN + ReLU
  int64_t kernel = 3;
  int64_t count = 2;
};

/// A prediction head on the fused map: [k x k separable conv to `hidden`] -> 1x1 conv.
struct PredictionHead {
  std::string module_name = "classifier";
  std::string output = "semantic";  // its name in the model's outputs
  OutputKind kind = OutputKind::kLogits;
  int64_t out_channels = 21;
  int64_t hidden = 0;  // 0: the 1x1 conv alone (v3+'s classifier)
  int64_t kernel = 5;
};

struct MultiLevelDecoderOptions {
  MultiLevelDecoderOptions(FeatureSpec in, AsppOptions aspp) : in_(std::move(in)), aspp_(std::move(aspp)) {}
  TORCH_ARG(FeatureSpec, in);  // the feature ASPP reads
  TORCH_ARG(AsppOptions, aspp);
  TORCH_ARG(std::vector<DecoderLevel>, levels) = std::vector<DecoderLevel>{};  // coarse to fine
  TORCH_ARG(FuseConvOptions, fuse) = FuseConvOptions{};
  TORCH_ARG(std::vector<PredictionHead>, heads) = std::vector<PredictionHead>{};
  TORCH_ARG(bool, align_corners) = false;
};

/// ASPP -> levels -> prediction heads, as a head: forward() gives the first
/// prediction head's output, forward_outputs() all of them by name.
class MultiLevelDecoderImpl : public HeadImpl {
 public:
  explicit MultiLevelDecoderImpl(const MultiLevelDecoderOptions& options);
  torch::Tensor forward(const Features& features) override;
  ModelOutputs forward_outputs(const Features& features) override;

 private:
  torch::Tensor decode(const Features& features);

  MultiLevelDecoderOptions options_;
  Aspp aspp_{nullptr};
  std::vector<Chain> projections_;
  std::vector<torch::nn::Sequential> fuses_;
  std::vector<torch::nn::Sequential> heads_;
};
TORCH_MODULE(MultiLevelDecoder);

}  // namespace deeplab::models
