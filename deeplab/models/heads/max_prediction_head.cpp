#include "deeplab/models/heads/max_prediction_head.h"

#include <torch/torch.h>

#include <cmath>

#include "deeplab/models/layers/activation.h"
#include "deeplab/models/layers/axial_attention.h"

namespace deeplab::models {

namespace {
constexpr int64_t kPixelHeadKernel = 5;  // also the semantic head's
constexpr double kVoidPrior = 0.9;
constexpr double kMaskLogitGamma = 0.1;  // deeplab2's pixel_space_mask_batch_norm init

}  // namespace

MaXHeadImpl::MaXHeadImpl(const MaXHeadOptions& o) : options_(o) {
  const int64_t in = o.pixel_channels();
  Chain head;
  head->push_back(same_conv(in, in, kPixelHeadKernel, 1, 1, /*bias=*/false, /*groups=*/in));
  head->push_back(Norm2d(in));
  head->push_back(make_activation(o.activation()));
  head->push_back(same_conv(in, o.head_channels(), 1));
  head->push_back(Norm2d(o.head_channels()));
  head->push_back(make_activation(o.activation()));
  pixel_head_ = register_module("pixel_head", head);
  pixel_final_ = register_module("pixel_final", same_conv(o.head_channels(), o.embedding_channels(), 1, 1, 1, true));
  truncated_normal_(pixel_final_->weight, 0.01);
  torch::nn::init::zeros_(pixel_final_->bias);
  pixel_norm_ = register_module("pixel_norm", Norm2d(o.embedding_channels()));
  mask_head_ = register_module("mask_head", SequenceProjection(o.slot_channels(), o.embedding_channels()));
  class_head_ = register_module("class_head", torch::nn::Linear(o.slot_channels(), o.num_classes()));
  truncated_normal_(class_head_->weight, 0.01);
  torch::nn::init::zeros_(class_head_->bias);
  mask_logit_norm_ = register_module("mask_logit_norm", Norm2d(1));
  torch::nn::init::constant_(mask_logit_norm_->weight, kMaskLogitGamma);
}

MaXHeadOutputs MaXHeadImpl::forward(const torch::Tensor& pixels, const torch::Tensor& class_features,
                                    const torch::Tensor& mask_features) {
  MaXHeadOutputs out;
  const torch::Tensor embedding = pixel_norm_->forward(pixel_final_->forward(pixel_head_->forward(pixels)));
  out.pixel_embedding = embedding / embedding.pow(2).sum(1, /*keepdim=*/true).clamp_min(1e-12).sqrt();
  const torch::Tensor kernels = mask_head_->forward(mask_features);  // [B, N, E]
  const torch::Tensor logits = torch::einsum("bdhw,bnd->bnhw", {out.pixel_embedding, kernels});
  // One channel: a single mean and variance over every slot and pixel.
  out.mask_logits = mask_logit_norm_->forward(logits.reshape({-1, 1, 1, 1})).view(logits.sizes());
  // The void prior is a constant of the forward pass, not an initial bias.
  const int64_t k = options_.num_classes();
  const double void_bias = std::log(static_cast<double>(k - 1) * kVoidPrior / (1.0 - kVoidPrior));
  torch::Tensor prior = torch::zeros({k}, class_features.options());
  prior[k - 1] = void_bias;
  out.class_logits = class_head_->forward(class_features) + prior;
  return out;
}

Chain single_semantic_head(int64_t in, int64_t hidden, int64_t num_classes, const std::string& activation) {
  Chain head;
  head->push_back(same_conv(in, in, kPixelHeadKernel, 1, 1, /*bias=*/false, /*groups=*/in));
  head->push_back(Norm2d(in));
  head->push_back(make_activation(activation));
  head->push_back(same_conv(in, hidden, 1));
  head->push_back(Norm2d(hidden));
  head->push_back(make_activation(activation));
  head->push_back(same_conv(hidden, num_classes, 1, 1, 1, /*bias=*/true));
  return head;
}

}  // namespace deeplab::models
