#pragma once
// A segmentation head reads backbone features and returns logits at the
// resolution of the feature it ends on (the meta-architecture upsamples).
// It also says which of its layers are new, so the optimizer can give them
// the head learning rate without knowing parameter names.

#include <torch/nn/module.h>

#include <string>
#include <utility>
#include <vector>

#include "deeplab/models/backbones/backbone.h"
#include "deeplab/models/outputs.h"

namespace deeplab::models {

class HeadImpl : public torch::nn::Module {
 public:
  /// The head's main output (semantic logits).
  virtual torch::Tensor forward(const Features& features) = 0;
  /// Every output of the head by name, at the resolution it ends on (the
  /// meta-architecture resizes each by its kind).  Default: forward() as
  /// the semantic logits.
  virtual ModelOutputs forward_outputs(const Features& features) {
    return {{output_name::kSemantic, {forward(features), OutputKind::kLogits}}};
  }

  /// Parameters of the layers this head initialises from scratch (trained at
  /// train.optimizer.head_lr_mult).  Default: all of them.
  virtual std::vector<torch::Tensor> new_parameters() { return parameters(); }

  /// (fc6, fc7) module paths, relative to the head, of layers that start from
  /// the backbone's ImageNet classifier (VGG's fc6/fc7 turned into convs);
  /// empty for heads without such layers.
  virtual std::vector<std::pair<std::string, std::string>> imagenet_fc_layers() const { return {}; }
};

}  // namespace deeplab::models
