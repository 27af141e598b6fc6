#pragma once
// Axial-ResNet (Axial-DeepLab, ECCV 2020) as deeplab2 builds it
// (axial_resnet_instances: axial_resnet_s, axial_resnet_l): a 7x7 stem
// (conv + BN, no max-pool: the first unit of res2 is strided instead), then
// four stages of 3, 4, 6, 3 axial-attention units (layers/axial_block.h) of
// widths 64, 128, 256, 512 x width_multiplier, each ending on 4x that.
// Attention is global along each axis, so a stage that would pass the
// output stride just keeps stride 1 (no dilation needed).  Features: res2
// (/4, low_level), res3 (/8, mid_level), res4 (aux) and res5 (out), each the
// activated stage output.

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>

#include <string>
#include <vector>

#include "deeplab/models/backbones/backbone.h"
#include "deeplab/models/layers/conv_bn_act.h"

namespace deeplab::models {

struct AxialResNetOptions {
  TORCH_ARG(double, width_multiplier) = 1.0;  // axial_resnet_s: 0.5, axial_resnet_l: 1
  TORCH_ARG(std::vector<int64_t>, blocks) = std::vector<int64_t>{3, 4, 6, 3};
  TORCH_ARG(int64_t, output_stride) = 32;
  /// Keep probability of the last stage's residual branches (drop path);
  /// earlier stages keep more, linearly (deeplab2's 'linear' schedule).
  TORCH_ARG(double, drop_path_keep) = 1.0;
};

class AxialResNetImpl : public BackboneImpl {
 public:
  explicit AxialResNetImpl(const AxialResNetOptions& options);
  std::vector<FeatureSpec> feature_specs() const override { return specs_; }
  Features forward(const torch::Tensor& x) override;
  std::string out_name() const override { return "res5"; }
  std::string low_level_name() const override { return "res2"; }
  std::string mid_level_name() const override { return "res3"; }
  std::string aux_name() const override { return "res4"; }

 private:
  Chain stem_{nullptr};
  std::vector<torch::nn::Sequential> stages_;
  std::vector<FeatureSpec> specs_;
};
TORCH_MODULE(AxialResNet);

}  // namespace deeplab::models
