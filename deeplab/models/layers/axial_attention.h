#pragma once
// Axial-DeepLab's position-sensitive axial attention (Wang et al., ECCV 2020),
// with deeplab2's layout of weights and normalisations, so that parameter
// counts equal deeplab2's own test constants:
//   AxialAttention    multi-head self-attention along one axis of length L
//                     (global along it: deeplab2's query_shape >= L case);
//                     similarity = content (q.k) + query and key relative
//                     positional terms, each term batch-normalised per head
//                     before the sum; the output retrieves values and value
//                     positional encodings, each batch-normalised per channel.
//   AxialAttention2D  the height axis, then the width axis (Axial-DeepLab's
//                     factorisation), with an optional stride on each.
// Relative positions span +-254 (deeplab2's MAX_SPAN 255): one embedding
// table of 509 rows per term, so the weights do not depend on the input size;
// farther positions share the table's last row.

#include <torch/nn/module.h>

#include "deeplab/models/layers/norm.h"

namespace deeplab::models {

/// Fills `tensor` with N(0, std^2) values truncated to +-2 std (redrawn
/// outside), TensorFlow's TruncatedNormal, which deeplab2 initialises with.
void truncated_normal_(torch::Tensor tensor, double std);

class AxialAttentionImpl : public torch::nn::Module {
 public:
  /// `key_depth` and `value_depth` are totals over the heads.
  AxialAttentionImpl(int64_t in_channels, int64_t key_depth, int64_t value_depth, int64_t heads = 8);

  /// x: [B, L, in_channels] -> [B, L, value_depth] (heads-major channels).
  torch::Tensor forward(const torch::Tensor& x);

  int64_t value_depth() const { return value_depth_; }

 private:
  int64_t key_depth_, value_depth_, heads_;
  torch::Tensor qkv_kernel_;  // [2 * key_depth + value_depth, in_channels]
  Norm2d qkv_norm_{nullptr};
  Norm2d similarity_norm_{nullptr};                // 3 terms x heads
  Norm2d output_norm_{nullptr};                    // 2 terms x value_depth
  torch::Tensor query_rpe_, key_rpe_, value_rpe_;  // [509, depth per head]
};
TORCH_MODULE(AxialAttention);

/// The relative-distance index table of an axis of `length`: [L, L] with
/// entry (l, m) = m - l + 254 clipped to [0, 508].
torch::Tensor relative_distance_index(int64_t length, const torch::Device& device);

class AxialAttention2DImpl : public torch::nn::Module {
 public:
  /// deeplab2's AxialAttention2D(filters) with key_expansion and
  /// value_expansion: key depth = filters x key_expansion, value depth =
  /// filters x value_expansion (1 and 2 by default; 2 and 4 in
  /// Axial-SWideRNet and MaX-DeepLab-L), 8 heads; `stride` subsamples after
  /// each axis.
  AxialAttention2DImpl(int64_t in_channels, int64_t key_depth, int64_t value_depth, int64_t stride = 1);
  /// [N, in_channels, H, W] -> [N, value_depth, H / stride, W / stride].
  torch::Tensor forward(const torch::Tensor& x);
  int64_t out_channels() const { return height_axis_->value_depth(); }

 private:
  int64_t stride_;
  AxialAttention height_axis_{nullptr}, width_axis_{nullptr};
};
TORCH_MODULE(AxialAttention2D);

}  // namespace deeplab::models
