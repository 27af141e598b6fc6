#pragma once
// The meta-architecture: backbone -> head [-> decoder] -> logits upsampled to
// the input size, plus the optional auxiliary FCN head and DeepLabv2's
// multi-scale input fusion (MSC).  forward() is tensors in, tensors out, and
// traceable; the extra training outputs come from forward_train().

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>

#include <memory>
#include <string>
#include <vector>

#include "deeplab/models/backbones/backbone.h"
#include "deeplab/models/heads/head.h"

namespace deeplab::models {

struct DeepLabOptions {
  TORCH_ARG(std::string, arch) = "deeplabv3";
  TORCH_ARG(int64_t, num_classes) = 21;
  TORCH_ARG(bool, align_corners) = false;
  /// DeepLabv2 MSC: input scales whose logits are max-fused; empty = off.
  TORCH_ARG(std::vector<double>, msc_scales) = std::vector<double>{};
};

/// Everything a training step may need; `out` is what forward() returns.
struct DeepLabOutputs {
  torch::Tensor out;                      // logits at input size
  torch::Tensor aux;                      // auxiliary head logits (undefined when off)
  std::vector<torch::Tensor> msc_scales;  // per-scale logits at input size (MSC only)
};

class DeepLabImpl : public torch::nn::Module {
 public:
  DeepLabImpl(const DeepLabOptions& options, std::shared_ptr<BackboneImpl> backbone, std::shared_ptr<HeadImpl> head,
              torch::nn::Sequential aux_head = nullptr);

  /// Logits (N, classes, H, W) for images (N, 3, H, W).
  torch::Tensor forward(const torch::Tensor& images);
  DeepLabOutputs forward_train(const torch::Tensor& images);

  const DeepLabOptions& options() const { return options_; }
  BackboneImpl& backbone() { return *backbone_; }
  bool has_aux() const { return !aux_head_.is_empty(); }

 private:
  torch::Tensor single_scale(const torch::Tensor& images, torch::Tensor* aux);

  DeepLabOptions options_;
  std::shared_ptr<BackboneImpl> backbone_;
  std::shared_ptr<HeadImpl> head_;
  torch::nn::Sequential aux_head_{nullptr};
};
TORCH_MODULE(DeepLab);

}  // namespace deeplab::models
