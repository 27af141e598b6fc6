#include "deeplab/models/heads/max_deeplab_head.h"

#include <torch/torch.h>

#include "deeplab/core/error.h"

namespace deeplab::models {

MaXDeepLabHeadImpl::MaXDeepLabHeadImpl(const MaXDeepLabHeadOptions& o) : options_(o) {
  const AxialResNetOptions& e = o.encoder();
  decoder_ =
      register_module("decoder", StackedDecoder(StackedDecoderOptions()
                                                    .encoder(e)
                                                    .backbone_stacks(e.decoder_stacks())
                                                    .backbone_blocks(e.decoder_blocks())
                                                    .extra_stacks(o.extra_stacks())
                                                    .extra_blocks(o.extra_blocks())
                                                    .extra_transformer_beyond_stride(e.transformer_beyond_stride())
                                                    .part("extra")
                                                    .encoder_channels(o.encoder_channels())));
  const int64_t memory = e.memory_channels();
  class_feature_ = register_module("class_feature", SequenceProjection(memory, o.slot_feature_channels()));
  mask_feature_ = register_module("mask_feature", SequenceProjection(memory, o.slot_feature_channels()));
  const int64_t pixels = decoder_->out_channels();
  predictor_ = register_module("predictor", MaXHead(MaXHeadOptions(pixels, o.num_classes() + 1)
                                                        .slot_channels(o.slot_feature_channels())
                                                        .head_channels(o.head_channels())
                                                        .embedding_channels(o.embedding_channels())
                                                        .activation("relu")));
  if (o.extra_stacks() > 0) {
    semantic_head_ =
        register_module("semantic_head", single_semantic_head(pixels, o.head_channels(), o.num_classes(), "relu"));
  } else {
    if (!o.semantic_decoder()) throw Error("MaX-DeepLab head: no extra stacks and no semantic decoder");
    semantic_decoder_ = register_module("semantic_decoder", MultiLevelDecoder(*o.semantic_decoder()));
  }
}

torch::Tensor MaXDeepLabHeadImpl::forward(const Features& features) {
  // MaX-DeepLab-S's semantic decoder reads the encoder alone; L's head reads
  // the extra decoder, so only then is the whole head run.
  if (!semantic_decoder_.is_empty()) return semantic_decoder_->forward(features);
  return forward_outputs(features).at(output_name::kSemantic).value;
}

ModelOutputs MaXDeepLabHeadImpl::forward_outputs(const Features& features) {
  DecoderState state = import_decoder_state(features);
  if (!state.memory.defined()) throw Error("MaX-DeepLab head: the encoder returned no memory");
  decoder_->forward(state);
  const torch::Tensor class_features = torch::relu(class_feature_->forward(state.memory));
  const torch::Tensor mask_features = torch::relu(mask_feature_->forward(state.memory));
  const MaXHeadOutputs prediction = predictor_->forward(state.high_resolution.back(), class_features, mask_features);
  ModelOutputs outputs;
  outputs[output_name::kSemantic] = {semantic_decoder_.is_empty()
                                         ? semantic_head_->forward(state.high_resolution.front())
                                         : semantic_decoder_->forward(features),
                                     OutputKind::kLogits};
  outputs[output_name::kMaskLogits] = {prediction.mask_logits, OutputKind::kStrided};
  outputs[output_name::kPixelEmbedding] = {prediction.pixel_embedding, OutputKind::kStrided};
  outputs[output_name::kClassLogits] = {prediction.class_logits, OutputKind::kPerSlot};
  return outputs;
}

}  // namespace deeplab::models
