#pragma once
// kMaX-DeepLab (Yu et al., ECCV 2022) as a head on the backbone's features,
// assembled as deeplab2's kmax_deeplab.py does per dataset:
//   pixel_decoder        the encoder's stride-32 ... 4 (or 2) features ->
//                        stages at strides 32, 16, 8, 4 [, 2];
//   transformer_decoder  mask slots refined by 6 kMaX layers over the
//                        stride-32, 16 and 8 stages, each with its own
//                        auxiliary prediction;
//   predictor            MaX-DeepLab's head on the last stage: "mask_logits"
//                        and "pixel_embedding" at that stride (kStrided),
//                        "class_logits" per slot with void last (kPerSlot);
//   semantic             the auxiliary semantic head ("semantic", logits the
//                        meta-architecture brings to the input size): on the
//                        stride-32 feature (Cityscapes), or on an ASPP decoder
//                        with res3 / res2 projections (COCO, ADE20K).
// In training the outputs add each transformer layer's prediction as
// "layer<i>/mask_logits", "layer<i>/pixel_embedding" (resized bilinearly,
// aligned corners, to the final stride as deeplab2 does) and
// "layer<i>/class_logits": MaX-DeepLab's deep supervision.

#include <optional>
#include <vector>

#include "deeplab/models/heads/head.h"
#include "deeplab/models/heads/kmax_pixel_decoder.h"
#include "deeplab/models/heads/kmax_transformer_decoder.h"
#include "deeplab/models/heads/max_prediction_head.h"
#include "deeplab/models/heads/multi_level_decoder.h"

namespace deeplab::models {

struct KMaXHeadOptions {
  KMaXHeadOptions(std::vector<FeatureSpec> encoder_levels, int64_t num_classes)
      : encoder_levels_(std::move(encoder_levels)), num_classes_(num_classes) {}
  /// The encoder features from stride 32 down to high_resolution_stride.
  TORCH_ARG(std::vector<FeatureSpec>, encoder_levels);
  /// Classes without void (the class logits have one more).
  TORCH_ARG(int64_t, num_classes);
  TORCH_ARG(int64_t, high_resolution_stride) = 4;
  TORCH_ARG(int64_t, slots) = 128;
  TORCH_ARG(double, drop_path_keep) = 0.8;
  TORCH_ARG(int64_t, embedding_channels) = 128;
  TORCH_ARG(int64_t, head_channels) = 256;
  /// The pixel decoder's stage widths and units; empty: deeplab2's.
  TORCH_ARG(std::vector<int64_t>, decoder_dims) = std::vector<int64_t>{};
  TORCH_ARG(std::vector<int64_t>, decoder_blocks) = std::vector<int64_t>{};
  /// Set: the semantic head is this decoder's (COCO, ADE20K); unset: a
  /// 5x5 separable + 1x1 head on the stride-32 feature (Cityscapes).
  TORCH_ARG(std::optional<MultiLevelDecoderOptions>, semantic_decoder) = std::nullopt;
};

class KMaXHeadImpl : public HeadImpl {
 public:
  explicit KMaXHeadImpl(const KMaXHeadOptions& options);
  /// The auxiliary semantic head's logits.
  torch::Tensor forward(const Features& features) override;
  ModelOutputs forward_outputs(const Features& features) override;

 private:
  torch::Tensor semantic_logits(const Features& features);

  KMaXHeadOptions options_;
  KMaXPixelDecoder pixel_decoder_{nullptr};
  KMaXTransformerDecoder transformer_decoder_{nullptr};
  MaXHead predictor_{nullptr};
  Chain semantic_head_{nullptr};
  MultiLevelDecoder semantic_decoder_{nullptr};
};
TORCH_MODULE(KMaXHead);

/// The options of deeplab2's COCO semantic decoder on `encoder` features
/// named out (stride 32), mid_level (8) and low_level (4): ASPP 256 at rates
/// 6 / 12 / 18, projections res3 -> 64 and res2 -> 32, 5x5 separable fuses to
/// 256, a 5x5 separable 256 + 1x1 head to `num_classes`.  deeplab2 uses GELU
/// in it; ours keeps the Panoptic-DeepLab decoder's ReLU.
MultiLevelDecoderOptions kmax_semantic_decoder_options(const FeatureSpec& out, const FeatureSpec& mid_level,
                                                       const FeatureSpec& low_level, int64_t num_classes,
                                                       std::vector<int64_t> projections, int64_t head_channels);

}  // namespace deeplab::models
