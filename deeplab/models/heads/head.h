#pragma once
// A segmentation head reads backbone features and returns logits at the
// resolution of the feature it ends on (the meta-architecture upsamples).

#include <torch/nn/module.h>

#include "deeplab/models/backbones/backbone.h"

namespace deeplab::models {

class HeadImpl : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(const Features& features) = 0;
};

}  // namespace deeplab::models
