#include "deeplab/models/heads/kmax_head.h"

#include <torch/torch.h>

#include "deeplab/core/error.h"
#include "deeplab/models/layers/activation.h"

namespace deeplab::models {

namespace {

constexpr int64_t kSemanticHeadKernel = 5;

std::vector<int64_t> transformer_levels(const KMaXPixelDecoderImpl& decoder) {
  return {decoder.out_channels(0), decoder.out_channels(1), decoder.out_channels(2)};
}

KMaXPixelDecoderOptions pixel_decoder_options(const KMaXHeadOptions& o) {
  KMaXPixelDecoderOptions decoder = kmax_pixel_decoder_options(o.encoder_levels(), o.high_resolution_stride());
  const auto check = [&](const std::vector<int64_t>& values, const char* key) {
    if (!values.empty() && values.size() != decoder.dims().size()) {
      throw ConfigError(std::string("model.kmax.") + key + ": " + std::to_string(values.size()) +
                        " values for the pixel decoder's " + std::to_string(decoder.dims().size()) +
                        " stages (stride 32 down to " + std::to_string(o.high_resolution_stride()) + ")");
    }
  };
  check(o.decoder_dims(), "decoder_dims");
  check(o.decoder_blocks(), "decoder_blocks");
  if (!o.decoder_dims().empty()) decoder.dims(o.decoder_dims());
  if (!o.decoder_blocks().empty()) decoder.blocks(o.decoder_blocks());
  return decoder;
}

}  // namespace

KMaXHeadImpl::KMaXHeadImpl(const KMaXHeadOptions& o) : options_(o) {
  if (o.encoder_levels().empty() || o.encoder_levels().front().stride != 32) {
    throw ConfigError(
        "model.arch: kmax_deeplab reads the encoder at stride 32 first; set model.backbone.output_stride: 32");
  }
  pixel_decoder_ = register_module("pixel_decoder", KMaXPixelDecoder(pixel_decoder_options(o)));
  const int64_t classes_with_void = o.num_classes() + 1;
  transformer_decoder_ = register_module(
      "transformer_decoder",
      KMaXTransformerDecoder(KMaXTransformerDecoderOptions(transformer_levels(*pixel_decoder_), classes_with_void)
                                 .num_slots(o.slots())
                                 .drop_path_keep(o.drop_path_keep())));
  const size_t last_stage = o.encoder_levels().size() - 1;
  predictor_ =
      register_module("predictor", MaXHead(MaXHeadOptions(pixel_decoder_->out_channels(last_stage), classes_with_void)
                                               .head_channels(o.head_channels())
                                               .embedding_channels(o.embedding_channels())));
  if (o.semantic_decoder()) {
    semantic_decoder_ = register_module("semantic_decoder", MultiLevelDecoder(*o.semantic_decoder()));
  } else {
    semantic_head_ = register_module("semantic_head", single_semantic_head(o.encoder_levels().front().channels,
                                                                           o.head_channels(), o.num_classes(), "gelu"));
  }
}

torch::Tensor KMaXHeadImpl::semantic_logits(const Features& features) {
  if (!semantic_decoder_.is_empty()) return semantic_decoder_->forward(features);
  return semantic_head_->forward(features.at(options_.encoder_levels().front().name));
}

torch::Tensor KMaXHeadImpl::forward(const Features& features) { return semantic_logits(features); }

ModelOutputs KMaXHeadImpl::forward_outputs(const Features& features) {
  const std::vector<torch::Tensor> stages = pixel_decoder_->forward(features);
  const KMaXDecoderOutputs decoded = transformer_decoder_->forward({stages[0], stages[1], stages[2]});
  const MaXHeadOutputs final_prediction =
      predictor_->forward(stages.back(), decoded.class_features, decoded.mask_features);
  ModelOutputs outputs;
  outputs[output_name::kSemantic] = {semantic_logits(features), OutputKind::kLogits};
  outputs[output_name::kMaskLogits] = {final_prediction.mask_logits, OutputKind::kStrided};
  outputs[output_name::kPixelEmbedding] = {final_prediction.pixel_embedding, OutputKind::kStrided};
  outputs[output_name::kClassLogits] = {final_prediction.class_logits, OutputKind::kPerSlot};
  if (!is_training()) return outputs;
  // Deep supervision: each layer's prediction at the final stride.
  const std::vector<int64_t> size = {final_prediction.mask_logits.size(2), final_prediction.mask_logits.size(3)};
  const auto at_final_size = [&](const torch::Tensor& x) {
    if (x.size(2) == size[0] && x.size(3) == size[1]) return x;
    return torch::upsample_bilinear2d(x, size, /*align_corners=*/true);
  };
  for (size_t i = 0; i < decoded.layer_outputs.size(); ++i) {
    const MaXHeadOutputs& layer = decoded.layer_outputs[i];
    const int index = static_cast<int>(i);
    outputs[output_name::layer(index, output_name::kMaskLogits)] = {at_final_size(layer.mask_logits),
                                                                    OutputKind::kStrided};
    outputs[output_name::layer(index, output_name::kPixelEmbedding)] = {at_final_size(layer.pixel_embedding),
                                                                        OutputKind::kStrided};
    outputs[output_name::layer(index, output_name::kClassLogits)] = {layer.class_logits, OutputKind::kPerSlot};
  }
  return outputs;
}

MultiLevelDecoderOptions kmax_semantic_decoder_options(const FeatureSpec& out, const FeatureSpec& mid_level,
                                                       const FeatureSpec& low_level, int64_t num_classes,
                                                       std::vector<int64_t> projections, int64_t head_channels) {
  if (projections.size() != 2) throw ConfigError("model.kmax.semantic_projections: expected 2 widths (res3, res2)");
  constexpr int64_t kDecoderChannels = 256;
  const AsppOptions aspp = AsppOptions(out.channels, {6, 12, 18}).channels(kDecoderChannels).dropout(0.0);
  const std::vector<DecoderLevel> levels = {
      {mid_level, projections[0], kDecoderChannels, "project_s8", "fuse_s8"},
      {low_level, projections[1], kDecoderChannels, "project_s4", "fuse_s4"},
  };
  return MultiLevelDecoderOptions(out, aspp)
      .levels(levels)
      .fuse(FuseConvOptions{/*separable=*/true, kSemanticHeadKernel, /*count=*/1})
      .heads({{"semantic_head", output_name::kSemantic, OutputKind::kLogits, num_classes, head_channels,
               kSemanticHeadKernel}});
}

}  // namespace deeplab::models
