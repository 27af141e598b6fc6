#pragma once
// The meta-architecture: backbone -> head [-> decoder] -> logits upsampled to
// the input size, plus the optional auxiliary FCN head and DeepLabv2's
// multi-scale input fusion (MSC).  forward_outputs() gives every named output
// (models/outputs.h); forward() gives the semantic logits alone and is what
// tracing and older callers use.

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "deeplab/models/backbones/backbone.h"
#include "deeplab/models/heads/head.h"
#include "deeplab/models/outputs.h"

namespace deeplab::models {

struct DeepLabOptions {
  TORCH_ARG(std::string, arch) = "deeplabv3";
  TORCH_ARG(int64_t, num_classes) = 21;
  TORCH_ARG(bool, align_corners) = false;
  /// DeepLabv2 MSC: input scales whose logits are max-fused; empty = off.
  TORCH_ARG(std::vector<double>, msc_scales) = std::vector<double>{};
};

class DeepLabImpl : public torch::nn::Module {
 public:
  DeepLabImpl(const DeepLabOptions& options, std::shared_ptr<BackboneImpl> backbone, std::shared_ptr<HeadImpl> head,
              torch::nn::Sequential aux_head = nullptr);

  /// Semantic logits (N, classes, H, W) for images (N, 3, H, W).
  torch::Tensor forward(const torch::Tensor& images);
  /// "semantic" always, "center" and "offset" for Panoptic-DeepLab; with
  /// `training_outputs` also "aux" (when the model has an auxiliary head)
  /// and "msc/<scale>" (DeepLabv2 MSC), the outputs only losses read.  All
  /// at input size (offsets rescaled with it).
  ModelOutputs forward_outputs(const torch::Tensor& images, bool training_outputs);
  /// The outputs of the current mode: training outputs in training mode.
  ModelOutputs forward_outputs(const torch::Tensor& images) { return forward_outputs(images, is_training()); }

  /// The parameters of the layers the model initialises from scratch (heads,
  /// not the ImageNet-initialised backbone or VGG's fc6/fc7): what
  /// train.optimizer.head_lr_mult applies to.
  std::vector<torch::Tensor> head_parameters();
  /// (fc6, fc7) module paths in the model that start from the backbone's
  /// ImageNet classifier (DeepLab v1/v2 on VGG); empty otherwise.
  std::vector<std::pair<std::string, std::string>> imagenet_fc_layers() const;

  const DeepLabOptions& options() const { return options_; }
  BackboneImpl& backbone() { return *backbone_; }
  bool has_aux() const { return !aux_head_.is_empty(); }

 private:
  ModelOutputs single_scale(const torch::Tensor& images, torch::Tensor* aux);
  torch::Tensor single_scale_logits(const torch::Tensor& images, torch::Tensor* aux);

  DeepLabOptions options_;
  std::shared_ptr<BackboneImpl> backbone_;
  std::shared_ptr<HeadImpl> head_;
  torch::nn::Sequential aux_head_{nullptr};
};
TORCH_MODULE(DeepLab);

}  // namespace deeplab::models
