#pragma once
// MobileNet-V2 and MobileNet-V3 (large/small) with torchvision parameter names
// (`features.<i>...` of torchvision, here at the top level: `<i>.block...`),
// with output stride 8/16/32 by dilating the later stages.

#include <torch/nn/modules/container/sequential.h>

#include <string>
#include <vector>

#include "deeplab/models/backbones/backbone.h"

namespace deeplab::models {

struct MobileNetOptions {
  explicit MobileNetOptions(std::string variant) : variant_(std::move(variant)) {}
  /// "v2", "v3_large" or "v3_small".
  TORCH_ARG(std::string, variant);
  TORCH_ARG(double, width_mult) = 1.0;
  TORCH_ARG(int64_t, output_stride) = 32;
  /// The closing 1x1 conv (V2 1280, V3 6x the last block); false: "out" is the last block.
  TORCH_ARG(bool, final_conv) = true;
};

/// torchvision's `features` Sequential, exposed as named features:
/// low_level (last /4 block), mid_level (last /8 block), aux (torchvision's aux tap) and out (last layer).
class MobileNetImpl : public BackboneImpl {
 public:
  explicit MobileNetImpl(const MobileNetOptions& options);
  std::vector<FeatureSpec> feature_specs() const override;
  Features forward(const torch::Tensor& x) override;

 private:
  struct Tap {
    size_t layer;
    FeatureSpec spec;
  };
  void build_v2(StrideTracker& tracker);
  void build_v3(bool large, StrideTracker& tracker);
  void add_layer(torch::nn::AnyModule layer, int64_t channels, int64_t stride);
  void add_taps();

  MobileNetOptions options_;
  std::vector<torch::nn::AnyModule> layers_;
  std::vector<int64_t> channels_, strides_;
  std::vector<bool> is_downsampling_;  // torchvision's `_is_cn`
  std::vector<Tap> taps_;
};
TORCH_MODULE(MobileNet);

/// torchvision's _make_divisible: round to a multiple of 8, never below 90 %.
int64_t make_divisible(double value, int64_t divisor = 8);

}  // namespace deeplab::models
