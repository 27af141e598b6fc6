#pragma once
// deeplab2's residual unit for Axial-ResNets, SWideRNets and the kMaX pixel
// decoder (AxialBlock):
//   a = act(x); shortcut = 1x1 conv + BN of a when the width changes, a
//   (subsampled by the stride) otherwise;
//   bottleneck: 1x1 conv-BN-act (width `filters` x expansion) ->
//       axial attention (then act) or a 3x3 conv-BN-act with the stride ->
//       1x1 conv-BN to 4 x filters;
//   basic (SWideRNet below stride 32): 3x3 conv-BN-act with the stride ->
//       3x3 conv-BN, both 4 x filters wide;
//   the last BN starts at gamma 0, so each unit starts as the identity;
//   then drop path -> y + shortcut.
// The activation sits at the unit's input (the output is the sum before it),
// as in deeplab2, where each stage's endpoint is that sum and `res<k>` its
// activation: the same network as a post-activation ResNet.

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>

#include <string>

#include "deeplab/models/layers/axial_attention.h"
#include "deeplab/models/layers/conv_bn_act.h"

namespace deeplab::models {

struct AxialBlockOptions {
  AxialBlockOptions(int64_t in, int64_t filters) : in_channels_(in), filters_(filters) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, filters);  // the unit ends on 4 x filters channels
  TORCH_ARG(int64_t, stride) = 1;
  TORCH_ARG(int64_t, dilation) = 1;  // of the (first) 3x3 conv (no effect on attention)
  /// Dilation of a basic unit's second 3x3 conv; 0: `dilation`.  deeplab2
  /// gives the first unit of a dilated stage the new rate here and the
  /// previous one in the first conv.
  TORCH_ARG(int64_t, second_dilation) = 0;
  /// Two 3x3 convs instead of the bottleneck (SWideRNet's "wider_resnet"
  /// units below stride 32); no attention.
  TORCH_ARG(bool, basic) = false;
  /// Axial attention in place of the 3x3 conv; its input is filters x
  /// attention_expansion wide (deeplab2's attention_bottleneck_expansion),
  /// a conv unit's is filters.
  TORCH_ARG(bool, axial) = false;
  TORCH_ARG(int64_t, attention_expansion) = 2;
  TORCH_ARG(int64_t, key_expansion) = 1;    // attention key depth = filters x this
  TORCH_ARG(int64_t, value_expansion) = 2;  // attention value depth = filters x this
  /// Width of a conv bottleneck's 3x3 output in units of filters: 1 for
  /// ResNets, 2 for SWideRNet's stride-32 stage ([f, 2f, 4f]).
  TORCH_ARG(int64_t, middle_expansion) = 1;
  TORCH_ARG(std::string, activation) = "relu";  // relu | gelu
  /// Probability of keeping the residual branch per sample in training (drop path).
  TORCH_ARG(double, drop_path_keep) = 1.0;
};

class AxialBlockImpl : public torch::nn::Module {
 public:
  explicit AxialBlockImpl(const AxialBlockOptions& options);
  torch::Tensor forward(const torch::Tensor& x);
  int64_t out_channels() const { return 4 * options_.filters(); }
  const AxialBlockOptions& options() const { return options_; }

 private:
  void build_bottleneck();
  void build_basic();
  torch::Tensor residual(const torch::Tensor& activated);

  AxialBlockOptions options_;
  Chain conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr}, shortcut_{nullptr};
  AxialAttention2D attention_{nullptr};
};
TORCH_MODULE(AxialBlock);

/// x with the per-sample drop-path mask of keep probability `keep` (kept
/// samples scaled by 1 / keep); x itself outside training or at keep 1.
torch::Tensor drop_path(const torch::Tensor& x, double keep, bool training);

/// relu or (exact, erf) gelu, out of place.
torch::Tensor apply_activation(const std::string& name, const torch::Tensor& x);

}  // namespace deeplab::models
