#include "deeplab/models/heads/multi_level_decoder.h"

#include <torch/torch.h>

#include "deeplab/core/error.h"
#include "deeplab/models/layers/conv_bn_act.h"
#include "deeplab/models/layers/resize.h"
#include "deeplab/models/layers/separable_conv.h"

namespace deeplab::models {

namespace nn = torch::nn;

namespace {

nn::AnyModule fuse_conv(const FuseConvOptions& fuse, int64_t in, int64_t out) {
  if (fuse.separable) return nn::AnyModule(SeparableConv(SeparableConvOptions(in, out).kernel(fuse.kernel)));
  return nn::AnyModule(conv_bn_act(ConvBnActOptions(in, out, fuse.kernel)));
}

// Registers children "0", "1", ... so names read `<head>.0.depthwise.weight`,
// `<head>.1.weight`; v3+'s lone classifier is the 1x1 conv itself.
std::shared_ptr<nn::Module> make_prediction_head(const PredictionHead& head, int64_t in, nn::Sequential* seq) {
  auto classifier = nn::Conv2d(nn::Conv2dOptions(head.hidden > 0 ? head.hidden : in, head.out_channels, 1));
  *seq = nn::Sequential();
  if (head.hidden > 0) (*seq)->push_back(SeparableConv(SeparableConvOptions(in, head.hidden).kernel(head.kernel)));
  (*seq)->push_back(classifier);
  if (head.hidden > 0) return seq->ptr();
  return classifier.ptr();
}

}  // namespace

MultiLevelDecoderImpl::MultiLevelDecoderImpl(const MultiLevelDecoderOptions& o) : options_(o) {
  if (o.heads().empty()) throw Error("MultiLevelDecoder: no prediction head configured");
  aspp_ = register_module("aspp", Aspp(o.aspp()));
  int64_t channels = o.aspp().channels();
  for (const DecoderLevel& level : o.levels()) {
    auto project = conv_bn_act(ConvBnActOptions(level.feature.channels, level.projection, 1));
    projections_.push_back(register_module(level.project_name, project));
    nn::Sequential fuse;
    for (int64_t i = 0; i < o.fuse().count; ++i) {
      fuse->push_back(fuse_conv(o.fuse(), i == 0 ? channels + level.projection : level.channels, level.channels));
    }
    fuses_.push_back(register_module(level.fuse_name, fuse));
    channels = level.channels;
  }
  for (const PredictionHead& head : o.heads()) {
    nn::Sequential seq;
    register_module(head.module_name, make_prediction_head(head, channels, &seq));
    heads_.push_back(seq);
  }
}

torch::Tensor MultiLevelDecoderImpl::decode(const Features& features) {
  torch::Tensor x = aspp_->forward(features.at(options_.in().name));
  for (size_t i = 0; i < fuses_.size(); ++i) {
    const torch::Tensor& skip = features.at(options_.levels()[i].feature.name);
    x = resize_bilinear(x, skip, options_.align_corners());
    x = fuses_[i]->forward(torch::cat({x, projections_[i]->forward(skip)}, 1));
  }
  return x;
}

torch::Tensor MultiLevelDecoderImpl::forward(const Features& features) {
  return heads_.front()->forward(decode(features));
}

ModelOutputs MultiLevelDecoderImpl::forward_outputs(const Features& features) {
  const torch::Tensor x = decode(features);
  ModelOutputs outputs;
  for (size_t i = 0; i < heads_.size(); ++i) {
    const PredictionHead& head = options_.heads()[i];
    outputs[head.output] = {heads_[i]->forward(x), head.kind};
  }
  return outputs;
}

}  // namespace deeplab::models
