#include "deeplab/models/heads/max_deeplab_head.h"

#include <torch/torch.h>

#include <cmath>

#include "deeplab/core/error.h"
#include "deeplab/models/layers/resize.h"

namespace deeplab::models {

namespace {
// deeplab2's decoder widths: stride x 64 x the width multiplier.
int64_t decoder_channels(int64_t stride, double width) {
  return static_cast<int64_t>(std::lround(static_cast<double>(stride) * 64.0 * width));
}
}  // namespace

MaXDeepLabHeadImpl::MaXDeepLabHeadImpl(const MaXDeepLabHeadOptions& o) : options_(o) {
  if (o.stages().size() < 2) throw Error("MaX-DeepLab head: expected the output-stride stage and at least one below");
  const FeatureSpec& top = o.stages().front();
  // The extra stage: deeplab2's stage5_extra, an axial unit at ResNet stride
  // 32 (filters 512 x width) and its dual-path layer.
  const auto filters = static_cast<int64_t>(std::lround(512.0 * o.width_multiplier()));
  extra_unit_ = register_module("extra_unit", AxialBlock(AxialBlockOptions(top.channels, filters)
                                                             .axial(true)
                                                             .attention_expansion(o.attention_expansion())
                                                             .key_expansion(o.key_expansion())
                                                             .value_expansion(o.value_expansion())
                                                             .drop_path_keep(o.drop_path_keep())));
  int64_t channels = extra_unit_->out_channels();
  extra_transformer_ = register_module(
      "extra_transformer",
      DualPathTransformer(DualPathTransformerOptions(channels, o.memory_channels())
                              .filters(static_cast<int64_t>(std::lround(128.0 * o.transformer_expansion())))
                              .ffn_channels(o.transformer_ffn_channels())
                              .drop_path_keep(o.drop_path_keep())));
  for (size_t i = 1; i < o.stages().size(); ++i) {
    const FeatureSpec& skip = o.stages()[i];
    const int64_t width = decoder_channels(skip.stride, o.width_multiplier());
    if (skip.channels != width) {
      throw Error("MaX-DeepLab head: the encoder's stride-" + std::to_string(skip.stride) + " stage has " +
                  std::to_string(skip.channels) + " channels; the decoder fuses it at " + std::to_string(width));
    }
    const std::string index = std::to_string(i);
    fuse_convs_.push_back(
        register_module("fuse" + index, conv_bn_act(ConvBnActOptions(channels, width, 1).activation(""))));
    decoder_units_.push_back(register_module("decoder_unit" + index, AxialBlock(AxialBlockOptions(width, width / 4))));
    channels = width;
  }
  class_feature_ = register_module("class_feature", SequenceProjection(o.memory_channels(), o.slot_feature_channels()));
  mask_feature_ = register_module("mask_feature", SequenceProjection(o.memory_channels(), o.slot_feature_channels()));
  predictor_ = register_module("predictor", MaXHead(MaXHeadOptions(channels, o.num_classes() + 1)
                                                        .slot_channels(o.slot_feature_channels())
                                                        .head_channels(o.head_channels())
                                                        .embedding_channels(o.embedding_channels())
                                                        .activation("relu")));
  semantic_decoder_ = register_module("semantic_decoder", MultiLevelDecoder(o.semantic()));
}

// deeplab2's ResizedFuse of [current, skip]: the skip has the stage's width
// and is only resized (the identity here: it is at the stage's size); the
// current feature is activated, projected and resized, aligned corners.
torch::Tensor MaXDeepLabHeadImpl::fuse(size_t stage, const torch::Tensor& current, const torch::Tensor& skip) {
  const torch::Tensor projected = fuse_convs_[stage]->forward(torch::relu(current));
  return resize_bilinear(projected, skip.size(2), skip.size(3), /*align_corners=*/true) + skip;
}

torch::Tensor MaXDeepLabHeadImpl::forward(const Features& features) { return semantic_decoder_->forward(features); }

ModelOutputs MaXDeepLabHeadImpl::forward_outputs(const Features& features) {
  const auto stage_sum = [&](const FeatureSpec& spec) { return features.at("stage" + spec.name.substr(3)); };
  const auto memory_it = features.find("memory");
  if (memory_it == features.end()) {
    throw Error(
        "MaX-DeepLab head: the encoder returned no memory (an Axial-ResNet built with transformer_beyond_stride)");
  }
  torch::Tensor pixels = extra_unit_->forward(stage_sum(options_.stages().front()));
  torch::Tensor memory;
  std::tie(pixels, memory) = extra_transformer_->forward(pixels, memory_it->second);
  for (size_t i = 0; i < decoder_units_.size(); ++i) {
    pixels = decoder_units_[i]->forward(fuse(i, pixels, stage_sum(options_.stages()[i + 1])));
  }
  const torch::Tensor class_features = torch::relu(class_feature_->forward(memory));
  const torch::Tensor mask_features = torch::relu(mask_feature_->forward(memory));
  const MaXHeadOutputs prediction = predictor_->forward(torch::relu(pixels), class_features, mask_features);
  ModelOutputs outputs;
  outputs[output_name::kSemantic] = {semantic_decoder_->forward(features), OutputKind::kLogits};
  outputs[output_name::kMaskLogits] = {prediction.mask_logits, OutputKind::kStrided};
  outputs[output_name::kPixelEmbedding] = {prediction.pixel_embedding, OutputKind::kStrided};
  outputs[output_name::kClassLogits] = {prediction.class_logits, OutputKind::kPerSlot};
  return outputs;
}

}  // namespace deeplab::models
