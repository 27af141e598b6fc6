#pragma once
// MaX-DeepLab's prediction head (deeplab2's MaXDeepLab decoder without its
// semantic branch), shared by kMaX-DeepLab's final output and by each of its
// transformer layers' auxiliary outputs, and by MaX-DeepLab (act: GELU in
// kMaX, ReLU in MaX):
//   pixel embedding  5x5 depthwise-BN-act -> 1x1-BN-act (head_channels) ->
//                    1x1 + bias (embedding_channels) -> BN -> L2-normalised;
//   mask kernels     a 1x1-BN projection of the slots' mask features;
//   mask logits      embedding . kernel per pixel and slot, then one batch
//                    norm over all of them (a single channel, gamma 0.1);
//   class logits     a 1x1 + bias projection of the slots' class features,
//                    the last class void, with log((K - 1) * 0.9 / 0.1)
//                    added to it on every pass (a 0.9 prior towards void).

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>

#include <string>

#include "deeplab/models/layers/conv_bn_act.h"
#include "deeplab/models/layers/norm.h"
#include "deeplab/models/layers/sequence_projection.h"

namespace deeplab::models {

struct MaXHeadOptions {
  MaXHeadOptions(int64_t pixel_channels, int64_t num_classes)
      : pixel_channels_(pixel_channels), num_classes_(num_classes) {}
  TORCH_ARG(int64_t, pixel_channels);
  /// Classes including the trailing void.
  TORCH_ARG(int64_t, num_classes);
  TORCH_ARG(int64_t, slot_channels) = 256;
  TORCH_ARG(int64_t, head_channels) = 256;
  TORCH_ARG(int64_t, embedding_channels) = 128;
  /// Of the pixel head: gelu (kMaX-DeepLab) or relu (MaX-DeepLab).
  TORCH_ARG(std::string, activation) = "gelu";
};

struct MaXHeadOutputs {
  torch::Tensor pixel_embedding;  // [B, E, h, w], unit length over E
  torch::Tensor mask_logits;      // [B, N, h, w]
  torch::Tensor class_logits;     // [B, N, K]
};

class MaXHeadImpl : public torch::nn::Module {
 public:
  explicit MaXHeadImpl(const MaXHeadOptions& options);
  /// pixels [B, pixel_channels, h, w]; class and mask features [B, N, slot_channels].
  MaXHeadOutputs forward(const torch::Tensor& pixels, const torch::Tensor& class_features,
                         const torch::Tensor& mask_features);

 private:
  MaXHeadOptions options_;
  Chain pixel_head_{nullptr};
  torch::nn::Conv2d pixel_final_{nullptr};
  Norm2d pixel_norm_{nullptr}, mask_logit_norm_{nullptr};
  SequenceProjection mask_head_{nullptr};
  torch::nn::Linear class_head_{nullptr};
};
TORCH_MODULE(MaXHead);

/// deeplab2's PanopticDeepLabSingleHead as the mask transformers' auxiliary
/// semantic head: 5x5 depthwise-BN-act, 1x1-BN-act to `hidden`, 1x1 with
/// bias to the classes (act: gelu in kMaX-DeepLab, relu in MaX-DeepLab).
Chain single_semantic_head(int64_t in, int64_t hidden, int64_t num_classes, const std::string& activation);

}  // namespace deeplab::models
