#pragma once
// MaX-DeepLab's dual-path transformer layer (Wang et al., CVPR 2021), as
// deeplab2's DualPathTransformerLayer builds it for MaX-DeepLab (memory
// self-attention, memory-to-pixel and pixel-to-memory attention; no k-means).
// Between a 2-D pixel path P [B, C, H, W] and a 1-D memory of mask slots
// M [B, N, D]:
//   m = act(proj(M)), p = act(proj(act(P)))              (bottleneck wide)
//   from m: queries, keys, values; from p: the same     (1x1 + BN each)
//   memory update   m's queries attend to p's and m's keys together
//                   (pixels, then slots), values likewise:
//                   M' = act(M + drop_path(proj0(attention)))
//   memory FFN      M' = act(M' + drop_path(FFN(M')))     (ffn_channels wide)
//   pixel update    p's queries attend to m's keys and values:
//                   P' = P + drop_path(proj0(attention))   (no activation:
//                   the next unit activates its input)
// Each attention batch-normalises the similarities per head and the retrieved
// values per channel, then applies the activation; there is no 1/sqrt(d)
// scale.  proj0 starts at BN gamma 0, so the layer starts as (P, act(M)).

#include <torch/nn/module.h>

#include <utility>

#include "deeplab/models/layers/norm.h"
#include "deeplab/models/layers/sequence_projection.h"

namespace deeplab::models {

struct DualPathTransformerOptions {
  DualPathTransformerOptions(int64_t pixel_channels, int64_t memory_channels)
      : pixel_channels_(pixel_channels), memory_channels_(memory_channels) {}
  TORCH_ARG(int64_t, pixel_channels);
  TORCH_ARG(int64_t, memory_channels);
  /// deeplab2's `filters`: 128 x the transformer expansion of the stage.
  TORCH_ARG(int64_t, filters) = 128;
  TORCH_ARG(int64_t, heads) = 8;
  TORCH_ARG(int64_t, bottleneck_expansion) = 2;  // of p and m
  TORCH_ARG(int64_t, key_expansion) = 1;
  TORCH_ARG(int64_t, value_expansion) = 2;
  TORCH_ARG(int64_t, ffn_channels) = 2048;
  TORCH_ARG(double, drop_path_keep) = 1.0;
};

class DualPathTransformerImpl : public torch::nn::Module {
 public:
  explicit DualPathTransformerImpl(const DualPathTransformerOptions& options);
  /// (pixels [B, C, H, W], memory [B, N, D]) -> the updated pair, same shapes.
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& pixels, const torch::Tensor& memory);

 private:
  struct Heads {
    torch::Tensor query, key, value;  // [B, h, L, d] each
  };
  Heads split(const torch::Tensor& qkv) const;
  torch::Tensor attend(const torch::Tensor& query, const torch::Tensor& key, const torch::Tensor& value,
                       Norm2d& similarity_norm, Norm2d& retrieved_norm) const;

  DualPathTransformerOptions options_;
  int64_t key_depth_, value_depth_;
  SequenceProjection memory_conv1_{nullptr}, pixel_conv1_{nullptr}, memory_qkv_{nullptr}, pixel_qkv_{nullptr},
      memory_conv3_{nullptr}, pixel_conv3_{nullptr}, ffn1_{nullptr}, ffn2_{nullptr};
  Norm2d memory_similarity_norm_{nullptr}, memory_retrieved_norm_{nullptr};
  Norm2d pixel_similarity_norm_{nullptr}, pixel_retrieved_norm_{nullptr};
};
TORCH_MODULE(DualPathTransformer);

}  // namespace deeplab::models
