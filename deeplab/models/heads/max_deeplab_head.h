#pragma once
// MaX-DeepLab (Wang et al., CVPR 2021) as a head on the MaX encoder: an
// Axial-ResNet whose stride-32 units carry dual-path transformer layers and
// a memory of mask slots (backbones/axial_resnet.h with
// transformer_beyond_stride).  As deeplab2's axial_resnet.py continues the
// encoder and max_deeplab.py decodes it:
//   extra stage        one more axial unit with its dual-path layer on the
//                      stride-32 (output-stride) feature and the memory;
//   decoder stages     down to high_resolution_stride (4): each sums the
//                      current feature (activated, 1x1 conv-BN, resized with
//                      aligned corners) and the encoder's stage sum at that
//                      stride (resized only: same width), then one
//                      bottleneck unit; widths stride x 64;
//   class and mask     two 1x1-BN-ReLU projections of the memory;
//   features
//   predictor          MaX-DeepLab's head (heads/max_prediction_head.h,
//                      ReLU) on the activated stride-4 feature:
//                      "mask_logits" and "pixel_embedding" at stride 4
//                      (kStrided), "class_logits" per slot with void last;
//   semantic           the auxiliary semantic decoder on the activated
//                      stride-32 feature with res3 / res2 projections
//                      ("semantic", brought to the input size).
// MaX-DeepLab has no per-layer auxiliary predictions.

#include <vector>

#include "deeplab/models/heads/head.h"
#include "deeplab/models/heads/max_prediction_head.h"
#include "deeplab/models/heads/multi_level_decoder.h"
#include "deeplab/models/layers/axial_block.h"
#include "deeplab/models/layers/dual_path_transformer.h"

namespace deeplab::models {

struct MaXDeepLabHeadOptions {
  MaXDeepLabHeadOptions(std::vector<FeatureSpec> stages, int64_t num_classes, MultiLevelDecoderOptions semantic)
      : stages_(std::move(stages)), num_classes_(num_classes), semantic_(std::move(semantic)) {}
  /// The encoder's stages from the output stride down to
  /// high_resolution_stride, named res<k> (their sums are read as stage<k>).
  TORCH_ARG(std::vector<FeatureSpec>, stages);
  TORCH_ARG(int64_t, num_classes);  // without void
  TORCH_ARG(MultiLevelDecoderOptions, semantic);
  TORCH_ARG(double, width_multiplier) = 1.0;
  /// The extra axial unit: attention / key / value expansions and its keep.
  TORCH_ARG(int64_t, attention_expansion) = 2;
  TORCH_ARG(int64_t, key_expansion) = 1;
  TORCH_ARG(int64_t, value_expansion) = 2;
  TORCH_ARG(double, drop_path_keep) = 1.0;
  TORCH_ARG(int64_t, memory_channels) = 256;
  TORCH_ARG(double, transformer_expansion) = 1.0;
  TORCH_ARG(int64_t, transformer_ffn_channels) = 2048;
  /// Width of the memory's class and mask features.
  TORCH_ARG(int64_t, slot_feature_channels) = 256;
  TORCH_ARG(int64_t, head_channels) = 256;
  TORCH_ARG(int64_t, embedding_channels) = 128;
};

class MaXDeepLabHeadImpl : public HeadImpl {
 public:
  explicit MaXDeepLabHeadImpl(const MaXDeepLabHeadOptions& options);
  /// The auxiliary semantic logits.
  torch::Tensor forward(const Features& features) override;
  ModelOutputs forward_outputs(const Features& features) override;

 private:
  torch::Tensor fuse(size_t stage, const torch::Tensor& current, const torch::Tensor& skip);

  MaXDeepLabHeadOptions options_;
  AxialBlock extra_unit_{nullptr};
  DualPathTransformer extra_transformer_{nullptr};
  std::vector<Chain> fuse_convs_;  // per decoder stage: the current feature's 1x1 conv-BN
  std::vector<AxialBlock> decoder_units_;
  SequenceProjection class_feature_{nullptr}, mask_feature_{nullptr};
  MaXHead predictor_{nullptr};
  MultiLevelDecoder semantic_decoder_{nullptr};
};
TORCH_MODULE(MaXDeepLabHead);

}  // namespace deeplab::models
