#include "deeplab/models/deeplab.h"

#include <torch/torch.h>

#include "deeplab/models/layers/resize.h"

namespace deeplab::models {

namespace {
// torchvision's names: backbone.*, classifier.*, aux_classifier.*
const char* const kHeadName = "classifier";
}  // namespace

DeepLabImpl::DeepLabImpl(const DeepLabOptions& options, std::shared_ptr<BackboneImpl> backbone,
                         std::shared_ptr<HeadImpl> head, torch::nn::Sequential aux_head)
    : options_(options) {
  backbone_ = register_module("backbone", std::move(backbone));
  head_ = register_module(kHeadName, std::move(head));
  if (!aux_head.is_empty()) aux_head_ = register_module("aux_classifier", aux_head);
}

ModelOutputs DeepLabImpl::single_scale(const torch::Tensor& images, torch::Tensor* aux) {
  const Features features = backbone_->forward(images);
  if (aux && !aux_head_.is_empty()) {
    *aux = resize_bilinear(aux_head_->forward(features.at(backbone_->aux_name())), images, options_.align_corners());
  }
  ModelOutputs outputs = head_->forward_outputs(features);
  for (auto& [name, output] : outputs) output.value = resize_output_like(output, images, options_.align_corners());
  return outputs;
}

torch::Tensor DeepLabImpl::single_scale_logits(const torch::Tensor& images, torch::Tensor* aux) {
  return single_scale(images, aux).at(output_name::kSemantic).value;
}

ModelOutputs DeepLabImpl::forward_outputs(const torch::Tensor& images, bool training_outputs) {
  torch::Tensor aux;
  torch::Tensor* want_aux = training_outputs ? &aux : nullptr;
  ModelOutputs outputs;
  if (options_.msc_scales().empty()) {
    outputs = single_scale(images, want_aux);
  } else {
    // DeepLabv2 MSC: run each scale, bring logits back to input size, max-fuse.
    torch::Tensor fused;
    for (const double scale : options_.msc_scales()) {
      torch::Tensor logits;
      if (scale == 1.0) {
        logits = single_scale_logits(images, want_aux);
      } else {
        auto scaled = resize_bilinear_scale(images, scale, options_.align_corners());
        logits = resize_bilinear(single_scale_logits(scaled, nullptr), images, options_.align_corners());
      }
      if (training_outputs) outputs[output_name::msc(scale)] = {logits, OutputKind::kLogits};
      fused = fused.defined() ? torch::max(fused, logits) : logits;
    }
    outputs[output_name::kSemantic] = {fused, OutputKind::kLogits};
  }
  if (aux.defined()) outputs[output_name::kAux] = {aux, OutputKind::kLogits};
  return outputs;
}

torch::Tensor DeepLabImpl::forward(const torch::Tensor& images) {
  if (options_.msc_scales().empty()) return single_scale_logits(images, nullptr);
  return forward_outputs(images, false).at(output_name::kSemantic).value;
}

std::vector<torch::Tensor> DeepLabImpl::head_parameters() {
  std::vector<torch::Tensor> params = head_->new_parameters();
  if (!aux_head_.is_empty()) {
    for (auto& p : aux_head_->parameters()) params.push_back(p);
  }
  return params;
}

std::vector<std::pair<std::string, std::string>> DeepLabImpl::imagenet_fc_layers() const {
  auto layers = head_->imagenet_fc_layers();
  for (auto& [fc6, fc7] : layers) {
    fc6 = std::string(kHeadName) + "." + fc6;
    fc7 = std::string(kHeadName) + "." + fc7;
  }
  return layers;
}

}  // namespace deeplab::models
