#include "deeplab/models/deeplab.h"

#include <torch/torch.h>

#include "deeplab/models/layers/resize.h"

namespace deeplab::models {

DeepLabImpl::DeepLabImpl(const DeepLabOptions& options, std::shared_ptr<BackboneImpl> backbone,
                         std::shared_ptr<HeadImpl> head, torch::nn::Sequential aux_head)
    : options_(options) {
  // torchvision's names: backbone.*, classifier.*, aux_classifier.*
  backbone_ = register_module("backbone", std::move(backbone));
  head_ = register_module("classifier", std::move(head));
  if (!aux_head.is_empty()) aux_head_ = register_module("aux_classifier", aux_head);
}

torch::Tensor DeepLabImpl::single_scale(const torch::Tensor& images, torch::Tensor* aux) {
  const Features features = backbone_->forward(images);
  if (aux && !aux_head_.is_empty()) {
    *aux = resize_bilinear(aux_head_->forward(features.at(backbone_->aux_name())), images, options_.align_corners());
  }
  return resize_bilinear(head_->forward(features), images, options_.align_corners());
}

DeepLabOutputs DeepLabImpl::forward_train(const torch::Tensor& images) {
  DeepLabOutputs outputs;
  if (options_.msc_scales().empty()) {
    outputs.out = single_scale(images, &outputs.aux);
    return outputs;
  }
  // DeepLabv2 MSC: run each scale, bring logits back to input size, max-fuse.
  for (const double scale : options_.msc_scales()) {
    torch::Tensor logits;
    if (scale == 1.0) {
      logits = single_scale(images, &outputs.aux);
    } else {
      auto scaled = resize_bilinear_scale(images, scale, options_.align_corners());
      logits = resize_bilinear(single_scale(scaled, nullptr), images, options_.align_corners());
    }
    outputs.msc_scales.push_back(logits);
    outputs.out = outputs.out.defined() ? torch::max(outputs.out, logits) : logits;
  }
  return outputs;
}

torch::Tensor DeepLabImpl::forward(const torch::Tensor& images) {
  if (options_.msc_scales().empty()) return single_scale(images, nullptr);
  return forward_train(images).out;
}

}  // namespace deeplab::models
