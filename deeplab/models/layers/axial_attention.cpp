#include "deeplab/models/layers/axial_attention.h"

#include <torch/torch.h>

#include "deeplab/core/error.h"

namespace deeplab::models {

namespace {
constexpr int64_t kMaxSpan = 255;               // deeplab2's MAX_SPAN
constexpr int64_t kRpeRows = 2 * kMaxSpan - 1;  // relative positions -254..254
constexpr int64_t kSimilarityTerms = 3, kRetrievedTerms = 2;

// A batch norm over the channels of a [B, C, L] tensor (as Norm2d on [B, C, L, 1]).
// A [B, C, L] transposed view normalised per channel as [B x L, C, 1, 1]
// rows: LibTorch 1.13's CPU batch-norm backward is wrong when input and
// output gradient are strided differently, which a channels-last-strided
// view invites (AxialAttention.TrainingGradientEqualsFiniteDifferences).
torch::Tensor norm_channels(Norm2d& norm, const torch::Tensor& x) {
  const int64_t batch = x.size(0), channels = x.size(1), length = x.size(2);
  return norm->forward(x.transpose(1, 2).reshape({-1, channels, 1, 1})).view({batch, length, channels}).transpose(1, 2);
}
}  // namespace

void truncated_normal_(torch::Tensor tensor, double std) {
  torch::NoGradGuard no_grad;
  tensor.normal_(0.0, std);
  for (int round = 0; round < 100; ++round) {
    const torch::Tensor outside = tensor.abs() > 2.0 * std;
    if (!outside.any().item<bool>()) return;
    tensor.masked_scatter_(outside, torch::randn({outside.sum().item<int64_t>()}, tensor.options()) * std);
  }
  tensor.clamp_(-2.0 * std, 2.0 * std);  // after 100 redraws, a vanishing remainder
}

torch::Tensor relative_distance_index(int64_t length, const torch::Device& device) {
  const auto options = torch::TensorOptions().dtype(torch::kLong).device(device);
  const torch::Tensor position = torch::arange(length, options);
  return (position.unsqueeze(0) - position.unsqueeze(1) + (kMaxSpan - 1)).clamp(0, kRpeRows - 1);
}

AxialAttentionImpl::AxialAttentionImpl(int64_t in_channels, int64_t key_depth, int64_t value_depth, int64_t heads)
    : key_depth_(key_depth), value_depth_(value_depth), heads_(heads) {
  if (key_depth % heads != 0 || value_depth % heads != 0) {
    throw Error("axial attention: key depth " + std::to_string(key_depth) + " and value depth " +
                std::to_string(value_depth) + " must be multiples of the " + std::to_string(heads) + " heads");
  }
  qkv_kernel_ = register_parameter("qkv_kernel", torch::empty({2 * key_depth + value_depth, in_channels}));
  truncated_normal_(qkv_kernel_, 1.0 / std::sqrt(static_cast<double>(in_channels)));
  qkv_norm_ = register_module("qkv_norm", Norm2d(2 * key_depth + value_depth));
  similarity_norm_ = register_module("similarity_norm", Norm2d(kSimilarityTerms * heads));
  output_norm_ = register_module("output_norm", Norm2d(kRetrievedTerms * value_depth));
  const auto rpe = [&](const char* name, int64_t depth) {
    torch::Tensor table = register_parameter(name, torch::empty({kRpeRows, depth}));
    truncated_normal_(table, 1.0);
    return table;
  };
  query_rpe_ = rpe("query_rpe", key_depth / heads);
  key_rpe_ = rpe("key_rpe", key_depth / heads);
  value_rpe_ = rpe("value_rpe", value_depth / heads);
}

torch::Tensor AxialAttentionImpl::forward(const torch::Tensor& x) {
  const int64_t batch = x.size(0), length = x.size(1);
  const int64_t key_per_head = key_depth_ / heads_, value_per_head = value_depth_ / heads_;
  // [B, 2K + V, L]: the projection, normalised per channel.
  const torch::Tensor qkv = norm_channels(qkv_norm_, torch::matmul(x, qkv_kernel_.t()).transpose(1, 2));
  const auto heads_last = [&](const torch::Tensor& t, int64_t per_head) {  // [B, C, L] -> [B, h, L, d]
    return t.reshape({batch, heads_, per_head, length}).permute({0, 1, 3, 2});
  };
  const torch::Tensor query = heads_last(qkv.narrow(1, 0, key_depth_), key_per_head);
  const torch::Tensor key = heads_last(qkv.narrow(1, key_depth_, key_depth_), key_per_head);
  const torch::Tensor value = heads_last(qkv.narrow(1, 2 * key_depth_, value_depth_), value_per_head);

  const torch::Tensor index = relative_distance_index(length, x.device());
  const torch::Tensor query_rpe = query_rpe_.index({index}), key_rpe = key_rpe_.index({index});  // [L, L, d]
  const torch::Tensor value_rpe = value_rpe_.index({index});
  // Each similarity term normalised per (term, head), then summed: [B, h, L, L].
  torch::Tensor similarity =
      torch::stack({torch::matmul(query, key.transpose(2, 3)), torch::einsum("bhld,lmd->bhlm", {query, query_rpe}),
                    torch::einsum("bhmd,lmd->bhlm", {key, key_rpe})},
                   1);
  similarity = similarity_norm_->forward(similarity.reshape({batch, kSimilarityTerms * heads_, length, length}))
                   .reshape({batch, kSimilarityTerms, heads_, length, length})
                   .sum(1);
  const torch::Tensor weights = torch::softmax(similarity, -1);
  // Retrieved content and positions, normalised per (term, channel): [B, h, L, d] each.
  torch::Tensor retrieved =
      torch::stack({torch::matmul(weights, value), torch::einsum("bhlm,lmd->bhld", {weights, value_rpe})}, 1);
  retrieved = retrieved.permute({0, 1, 2, 4, 3}).reshape({batch, kRetrievedTerms * value_depth_, length});
  retrieved = norm_channels(output_norm_, retrieved).reshape({batch, kRetrievedTerms, value_depth_, length}).sum(1);
  return retrieved.transpose(1, 2);  // [B, L, V], channel = head * d + i
}

AxialAttention2DImpl::AxialAttention2DImpl(int64_t in_channels, int64_t key_depth, int64_t value_depth, int64_t stride)
    : stride_(stride) {
  height_axis_ = register_module("height_axis", AxialAttention(in_channels, key_depth, value_depth));
  width_axis_ = register_module("width_axis", AxialAttention(value_depth, key_depth, value_depth));
}

torch::Tensor AxialAttention2DImpl::forward(const torch::Tensor& x) {
  const int64_t n = x.size(0), channels = x.size(1), height = x.size(2), width = x.size(3);
  const int64_t value_depth = height_axis_->value_depth();
  // Along the height: one sequence per (image, column).
  torch::Tensor y = height_axis_->forward(x.permute({0, 3, 2, 1}).reshape({n * width, height, channels}));
  y = y.reshape({n, width, height, value_depth}).transpose(1, 2);  // [N, H, W, V]
  if (stride_ > 1) y = y.slice(1, 0, height, stride_);
  const int64_t strided_height = y.size(1);
  // Along the width: one sequence per (image, row).
  y = width_axis_->forward(y.reshape({n * strided_height, width, value_depth}));
  y = y.reshape({n, strided_height, width, value_depth});
  if (stride_ > 1) y = y.slice(2, 0, width, stride_);
  return y.permute({0, 3, 1, 2}).contiguous();
}

}  // namespace deeplab::models
