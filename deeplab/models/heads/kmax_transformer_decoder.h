#pragma once
// kMaX-DeepLab's transformer decoder (Yu et al., ECCV 2022), as deeplab2
// builds it: learned cluster centers (mask slots, 256 channels) refined by
// six kMaX layers, two over each of the pixel decoder's stride-32, 16 and 8
// outputs.  One layer (deeplab2's DualPathTransformerLayer with k-means
// cross-attention and slot self-attention):
//   m = GELU(proj(C)); p = GELU(1x1-BN(GELU(P)))          (256 channels each)
//   aux = a MaX prediction head of its own on (p, m)      (mask logits, classes)
//   k-means: each pixel goes to its argmax slot of aux's mask logits (no
//     gradient through the choice); a slot's update is the BN'd sum of its
//     pixels' values, projected (BN gamma 0) -> C + drop_path(update)
//   self-attention of the slots from m, in parallel: 8 heads, BN on the
//     similarities and on the retrieved values, no 1/sqrt(d) -> + drop_path
//   C' = GELU(that); FFN 2048 wide -> C' = GELU(C' + drop_path(FFN(C')))
// The pixel features are only read.  After the layers, two GELU projections
// give the slots' class and mask features for the final head.

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>

#include <vector>

#include "deeplab/models/heads/max_prediction_head.h"

namespace deeplab::models {

struct KMaXLayerOptions {
  KMaXLayerOptions(int64_t pixel_channels, int64_t num_classes)
      : pixel_channels_(pixel_channels), num_classes_(num_classes) {}
  TORCH_ARG(int64_t, pixel_channels);
  TORCH_ARG(int64_t, num_classes);  // of the auxiliary head, void included
  TORCH_ARG(int64_t, slot_channels) = 256;
  TORCH_ARG(int64_t, heads) = 8;
  TORCH_ARG(int64_t, ffn_channels) = 2048;
  TORCH_ARG(double, drop_path_keep) = 1.0;
};

class KMaXLayerImpl : public torch::nn::Module {
 public:
  explicit KMaXLayerImpl(const KMaXLayerOptions& options);
  /// pixels [B, pixel_channels, h, w] (a pixel-decoder stage, before its
  /// activation); centers [B, N, 256] -> the updated centers.  `aux` gets
  /// the layer's own predictions at the pixels' resolution.
  torch::Tensor forward(const torch::Tensor& pixels, const torch::Tensor& centers, MaXHeadOutputs& aux);

 private:
  torch::Tensor kmeans_update(const torch::Tensor& assignment_logits, const torch::Tensor& pixel_values);
  torch::Tensor self_attention(const torch::Tensor& memory);

  KMaXLayerOptions options_;
  SequenceProjection memory_conv1_{nullptr}, memory_qkv_{nullptr}, kmeans_conv3_{nullptr}, memory_conv3_{nullptr},
      ffn1_{nullptr}, ffn2_{nullptr};
  Chain pixel_conv1_{nullptr}, pixel_value_{nullptr};
  MaXHead aux_head_{nullptr};
  Norm2d kmeans_value_norm_{nullptr}, similarity_norm_{nullptr}, retrieved_norm_{nullptr};
};
TORCH_MODULE(KMaXLayer);

struct KMaXTransformerDecoderOptions {
  KMaXTransformerDecoderOptions(std::vector<int64_t> pixel_channels, int64_t num_classes)
      : pixel_channels_(std::move(pixel_channels)), num_classes_(num_classes) {}
  /// Channels of the pixel decoder's stride-32, 16 and 8 outputs.
  TORCH_ARG(std::vector<int64_t>, pixel_channels);
  TORCH_ARG(int64_t, num_classes);  // void included
  /// Mask slots: deeplab2 uses 256 on Cityscapes, 128 on COCO and ADE20K.
  TORCH_ARG(int64_t, num_slots) = 128;
  TORCH_ARG(int64_t, layers_per_level) = 2;
  /// 0.8 on Cityscapes and COCO, 1.0 on ADE20K (constant over the layers).
  TORCH_ARG(double, drop_path_keep) = 0.8;
};

struct KMaXDecoderOutputs {
  torch::Tensor class_features, mask_features;  // [B, N, 256]
  std::vector<MaXHeadOutputs> layer_outputs;    // per layer, at its pixels' stride
};

class KMaXTransformerDecoderImpl : public torch::nn::Module {
 public:
  explicit KMaXTransformerDecoderImpl(const KMaXTransformerDecoderOptions& options);
  /// `levels`: the stride-32, 16 and 8 pixel-decoder outputs.
  KMaXDecoderOutputs forward(const std::vector<torch::Tensor>& levels);

 private:
  KMaXTransformerDecoderOptions options_;
  torch::Tensor cluster_centers_;  // [N, 256]
  std::vector<KMaXLayer> layers_;
  SequenceProjection class_projection_{nullptr}, mask_projection_{nullptr};
};
TORCH_MODULE(KMaXTransformerDecoder);

}  // namespace deeplab::models
