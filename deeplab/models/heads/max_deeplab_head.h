#pragma once
// MaX-DeepLab (Wang et al., CVPR 2021) as a head on the MaX encoder: an
// Axial-ResNet whose units from the transformer stride on carry dual-path
// transformer layers and a memory of mask slots (backbones/axial_resnet.h
// with transformer_beyond_stride), and for MaX-DeepLab-L one decoder stack
// inside the backbone.  As deeplab2's axial_resnet.py continues the encoder
// and max_deeplab.py decodes it:
//   extra decoder      the extra part of deeplab2's stacked decoder
//                      (backbones/stacked_decoder.h): MaX-DeepLab-S: one more
//                      axial unit with its dual-path layer at stride 32, then
//                      stages at strides 8 and 4; MaX-DeepLab-L: another
//                      stack of three-unit stages, 16 -> 4 -> 16 -> 4;
//   class and mask     two 1x1-BN-ReLU projections of the memory;
//   features
//   predictor          MaX-DeepLab's head (heads/max_prediction_head.h,
//                      ReLU) on the last activated stride-4 feature:
//                      "mask_logits" and "pixel_embedding" at stride 4
//                      (kStrided), "class_logits" per slot with void last;
//   semantic           without extra stacks (MaX-DeepLab-S) the auxiliary
//                      semantic decoder on the activated encoder output with
//                      res3 / res2 projections; with them a 5x5 separable
//                      head on the extra decoder's first stride-4 feature
//                      ("semantic", brought to the input size).
// MaX-DeepLab has no per-layer auxiliary predictions.

#include <map>
#include <optional>
#include <vector>

#include "deeplab/models/backbones/stacked_decoder.h"
#include "deeplab/models/heads/head.h"
#include "deeplab/models/heads/max_prediction_head.h"
#include "deeplab/models/heads/multi_level_decoder.h"

namespace deeplab::models {

struct MaXDeepLabHeadOptions {
  MaXDeepLabHeadOptions(AxialResNetOptions encoder, std::map<int64_t, int64_t> encoder_channels, int64_t num_classes)
      : encoder_(std::move(encoder)), encoder_channels_(std::move(encoder_channels)), num_classes_(num_classes) {}
  /// The encoder's options (widths, units, memory, decoder stacks inside it).
  TORCH_ARG(AxialResNetOptions, encoder);
  /// AxialResNetImpl::decoder_channels() of that encoder.
  using ChannelsByStride = std::map<int64_t, int64_t>;
  TORCH_ARG(ChannelsByStride, encoder_channels);
  TORCH_ARG(int64_t, num_classes);  // without void
  TORCH_ARG(int64_t, extra_stacks) = 0;
  TORCH_ARG(int64_t, extra_blocks) = 1;
  /// The auxiliary semantic decoder, used without extra stacks.
  TORCH_ARG(std::optional<MultiLevelDecoderOptions>, semantic_decoder) = std::nullopt;
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
  MaXDeepLabHeadOptions options_;
  StackedDecoder decoder_{nullptr};
  SequenceProjection class_feature_{nullptr}, mask_feature_{nullptr};
  MaXHead predictor_{nullptr};
  MultiLevelDecoder semantic_decoder_{nullptr};
  Chain semantic_head_{nullptr};
};
TORCH_MODULE(MaXDeepLabHead);

}  // namespace deeplab::models
