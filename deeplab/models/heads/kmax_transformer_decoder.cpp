#include "deeplab/models/heads/kmax_transformer_decoder.h"

#include <torch/torch.h>

#include "deeplab/core/error.h"
#include "deeplab/models/layers/activation.h"
#include "deeplab/models/layers/axial_attention.h"
#include "deeplab/models/layers/axial_block.h"

namespace deeplab::models {

namespace {
constexpr int64_t kKeyDepth = 128, kValueDepth = 256;  // filters 128: key x1, value x2
constexpr int kLevels = 3;                             // strides 32, 16, 8

// A 1x1 conv + BN on NCHW pixels whose kernel starts truncated-normal at `std`.
Chain pixel_projection(int64_t in, int64_t out, double std) {
  Chain chain = conv_bn_act(ConvBnActOptions(in, out, 1).activation(""));
  if (std > 0) truncated_normal_(chain->ptr<torch::nn::Conv2dImpl>(0)->weight, std);
  return chain;
}

torch::Tensor act(const torch::Tensor& x) { return gelu_activation(x); }  // deeplab2: exact (erf) GELU
}  // namespace

KMaXLayerImpl::KMaXLayerImpl(const KMaXLayerOptions& o) : options_(o) {
  const int64_t c = o.slot_channels();
  const double qkv_std = 1.0 / std::sqrt(static_cast<double>(c));  // bottleneck_channels^-0.5
  memory_conv1_ = register_module("memory_conv1", SequenceProjection(c, c));
  pixel_conv1_ = register_module("pixel_conv1", pixel_projection(o.pixel_channels(), c, 0));
  memory_qkv_ = register_module("memory_qkv", SequenceProjection(c, 2 * kKeyDepth + kValueDepth, false, qkv_std));
  pixel_value_ = register_module("pixel_value", pixel_projection(c, kValueDepth, qkv_std));
  aux_head_ = register_module("aux_head", MaXHead(MaXHeadOptions(c, o.num_classes()).slot_channels(c)));
  kmeans_value_norm_ = register_module("kmeans_value_norm", Norm2d(kValueDepth));
  kmeans_conv3_ = register_module("kmeans_conv3", SequenceProjection(kValueDepth, c, /*zero_gamma=*/true));
  similarity_norm_ = register_module("similarity_norm", Norm2d(o.heads()));
  retrieved_norm_ = register_module("retrieved_norm", Norm2d(kValueDepth));
  memory_conv3_ = register_module("memory_conv3", SequenceProjection(kValueDepth, c, /*zero_gamma=*/true));
  ffn1_ = register_module("ffn1", SequenceProjection(c, o.ffn_channels()));
  ffn2_ = register_module("ffn2", SequenceProjection(o.ffn_channels(), c, /*zero_gamma=*/true));
}

torch::Tensor KMaXLayerImpl::kmeans_update(const torch::Tensor& assignment_logits, const torch::Tensor& pixel_values) {
  // Hard assignment: each pixel to its best slot, a one-hot without gradient.
  const int64_t slots = assignment_logits.size(1);
  const torch::Tensor best = assignment_logits.detach().argmax(1).flatten(1);                // [B, hw]
  const torch::Tensor one_hot = torch::one_hot(best, slots).to(pixel_values.scalar_type());  // [B, hw, N]
  // Each slot's sum (not mean) of its pixels' values: [B, N, V].
  const torch::Tensor sums = torch::matmul(one_hot.transpose(1, 2), pixel_values.flatten(2).transpose(1, 2));
  return kmeans_conv3_->forward(norm_sequence(kmeans_value_norm_, sums));
}

torch::Tensor KMaXLayerImpl::self_attention(const torch::Tensor& memory) {
  const int64_t batch = memory.size(0), slots = memory.size(1), heads = options_.heads();
  const torch::Tensor qkv = memory_qkv_->forward(memory);        // [B, N, 2K + V]
  const auto split_heads = [&](int64_t offset, int64_t depth) {  // -> [B, h, N, d]
    return qkv.narrow(2, offset, depth).reshape({batch, slots, heads, depth / heads}).permute({0, 2, 1, 3});
  };
  const torch::Tensor q = split_heads(0, kKeyDepth), k = split_heads(kKeyDepth, kKeyDepth);
  const torch::Tensor v = split_heads(2 * kKeyDepth, kValueDepth);
  const torch::Tensor weights = torch::softmax(similarity_norm_->forward(torch::matmul(q, k.transpose(2, 3))), -1);
  torch::Tensor retrieved = torch::matmul(weights, v);                               // [B, h, N, d]
  retrieved = retrieved.permute({0, 2, 1, 3}).reshape({batch, slots, kValueDepth});  // [B, N, V], head-major
  retrieved = act(norm_sequence(retrieved_norm_, retrieved));
  return memory_conv3_->forward(retrieved);
}

torch::Tensor KMaXLayerImpl::forward(const torch::Tensor& pixels, const torch::Tensor& centers, MaXHeadOutputs& aux) {
  const double keep = options_.drop_path_keep();
  const bool training = is_training();
  const torch::Tensor memory = act(memory_conv1_->forward(centers));
  const torch::Tensor pixel_space = act(pixel_conv1_->forward(act(pixels)));
  aux = aux_head_->forward(pixel_space, memory, memory);
  torch::Tensor out =
      centers + drop_path(kmeans_update(aux.mask_logits, pixel_value_->forward(pixel_space)), keep, training);
  out = act(out + drop_path(self_attention(memory), keep, training));
  return act(out + drop_path(ffn2_->forward(act(ffn1_->forward(out))), keep, training));
}

KMaXTransformerDecoderImpl::KMaXTransformerDecoderImpl(const KMaXTransformerDecoderOptions& o) : options_(o) {
  if (o.pixel_channels().size() != kLevels) {
    throw Error("kMaX transformer decoder: expected the channels of 3 pixel levels (strides 32, 16, 8)");
  }
  constexpr int64_t kSlotChannels = 256;
  cluster_centers_ = register_parameter("cluster_centers", torch::empty({o.num_slots(), kSlotChannels}));
  truncated_normal_(cluster_centers_, 1.0);
  for (int level = 0; level < kLevels; ++level) {
    for (int64_t i = 0; i < o.layers_per_level(); ++i) {
      layers_.push_back(register_module(
          "layer" + std::to_string(layers_.size()),
          KMaXLayer(KMaXLayerOptions(o.pixel_channels()[level], o.num_classes()).drop_path_keep(o.drop_path_keep()))));
    }
  }
  class_projection_ = register_module("class_projection", SequenceProjection(kSlotChannels, kSlotChannels));
  mask_projection_ = register_module("mask_projection", SequenceProjection(kSlotChannels, kSlotChannels));
}

KMaXDecoderOutputs KMaXTransformerDecoderImpl::forward(const std::vector<torch::Tensor>& levels) {
  if (levels.size() != kLevels) throw Error("kMaX transformer decoder: expected 3 pixel levels");
  KMaXDecoderOutputs out;
  torch::Tensor centers = cluster_centers_.unsqueeze(0).expand({levels[0].size(0), -1, -1});
  for (size_t i = 0; i < layers_.size(); ++i) {
    MaXHeadOutputs aux;
    centers = layers_[i]->forward(levels[i / options_.layers_per_level()], centers, aux);
    out.layer_outputs.push_back(std::move(aux));
  }
  out.class_features = act(class_projection_->forward(centers));
  out.mask_features = act(mask_projection_->forward(centers));
  return out;
}

}  // namespace deeplab::models
