#include "deeplab/models/layers/dual_path_transformer.h"

#include <torch/torch.h>

#include <cmath>

#include "deeplab/core/error.h"
#include "deeplab/models/layers/axial_block.h"

namespace deeplab::models {

DualPathTransformerImpl::DualPathTransformerImpl(const DualPathTransformerOptions& o)
    : options_(o), key_depth_(o.filters() * o.key_expansion()), value_depth_(o.filters() * o.value_expansion()) {
  if (key_depth_ % o.heads() != 0 || value_depth_ % o.heads() != 0) {
    throw Error("dual-path transformer: key depth " + std::to_string(key_depth_) + " and value depth " +
                std::to_string(value_depth_) + " must be multiples of the " + std::to_string(o.heads()) + " heads");
  }
  const int64_t bottleneck = o.filters() * o.bottleneck_expansion();
  const double qkv_std = 1.0 / std::sqrt(static_cast<double>(bottleneck));
  const int64_t qkv = 2 * key_depth_ + value_depth_;
  memory_conv1_ = register_module("memory_conv1", SequenceProjection(o.memory_channels(), bottleneck));
  pixel_conv1_ = register_module("pixel_conv1", SequenceProjection(o.pixel_channels(), bottleneck));
  memory_qkv_ = register_module("memory_qkv", SequenceProjection(bottleneck, qkv, false, qkv_std));
  pixel_qkv_ = register_module("pixel_qkv", SequenceProjection(bottleneck, qkv, false, qkv_std));
  memory_similarity_norm_ = register_module("memory_similarity_norm", Norm2d(o.heads()));
  memory_retrieved_norm_ = register_module("memory_retrieved_norm", Norm2d(value_depth_));
  pixel_similarity_norm_ = register_module("pixel_similarity_norm", Norm2d(o.heads()));
  pixel_retrieved_norm_ = register_module("pixel_retrieved_norm", Norm2d(value_depth_));
  memory_conv3_ = register_module("memory_conv3", SequenceProjection(value_depth_, o.memory_channels(), true));
  ffn1_ = register_module("ffn1", SequenceProjection(o.memory_channels(), o.ffn_channels()));
  ffn2_ = register_module("ffn2", SequenceProjection(o.ffn_channels(), o.memory_channels(), true));
  pixel_conv3_ = register_module("pixel_conv3", SequenceProjection(value_depth_, o.pixel_channels(), true));
}

DualPathTransformerImpl::Heads DualPathTransformerImpl::split(const torch::Tensor& qkv) const {
  const int64_t batch = qkv.size(0), length = qkv.size(1), heads = options_.heads();
  const auto per_head = [&](int64_t offset, int64_t depth) {  // -> [B, h, L, d]
    return qkv.narrow(2, offset, depth).reshape({batch, length, heads, depth / heads}).permute({0, 2, 1, 3});
  };
  return {per_head(0, key_depth_), per_head(key_depth_, key_depth_), per_head(2 * key_depth_, value_depth_)};
}

// query [B, h, L, d], key [B, h, M, d], value [B, h, M, dv] -> [B, L, h x dv].
torch::Tensor DualPathTransformerImpl::attend(const torch::Tensor& query, const torch::Tensor& key,
                                              const torch::Tensor& value, Norm2d& similarity_norm,
                                              Norm2d& retrieved_norm) const {
  const torch::Tensor similarity = similarity_norm->forward(torch::matmul(query, key.transpose(2, 3)));
  const torch::Tensor retrieved = torch::matmul(torch::softmax(similarity, -1), value);  // [B, h, L, dv]
  const int64_t batch = retrieved.size(0), length = retrieved.size(2);
  const torch::Tensor flat = retrieved.permute({0, 2, 1, 3}).reshape({batch, length, value_depth_});
  return torch::relu(norm_sequence(retrieved_norm, flat));
}

std::pair<torch::Tensor, torch::Tensor> DualPathTransformerImpl::forward(const torch::Tensor& pixels,
                                                                         const torch::Tensor& memory) {
  const int64_t batch = pixels.size(0), channels = pixels.size(1), height = pixels.size(2), width = pixels.size(3);
  const double keep = options_.drop_path_keep();
  const bool training = is_training();
  const torch::Tensor pixel_tokens = pixels.permute({0, 2, 3, 1}).reshape({batch, height * width, channels});
  const torch::Tensor m = torch::relu(memory_conv1_->forward(memory));
  const torch::Tensor p = torch::relu(pixel_conv1_->forward(torch::relu(pixel_tokens)));
  const Heads from_memory = split(memory_qkv_->forward(m));
  const Heads from_pixels = split(pixel_qkv_->forward(p));

  // The memory reads the pixels and itself in one softmax.
  const torch::Tensor keys = torch::cat({from_pixels.key, from_memory.key}, 2);
  const torch::Tensor values = torch::cat({from_pixels.value, from_memory.value}, 2);
  const torch::Tensor memory_update =
      attend(from_memory.query, keys, values, memory_similarity_norm_, memory_retrieved_norm_);
  torch::Tensor memory_out = torch::relu(memory + drop_path(memory_conv3_->forward(memory_update), keep, training));
  memory_out =
      torch::relu(memory_out + drop_path(ffn2_->forward(torch::relu(ffn1_->forward(memory_out))), keep, training));

  // The pixels read the memory as it was before this layer's update.
  const torch::Tensor pixel_update =
      attend(from_pixels.query, from_memory.key, from_memory.value, pixel_similarity_norm_, pixel_retrieved_norm_);
  const torch::Tensor pixel_out = pixel_tokens + drop_path(pixel_conv3_->forward(pixel_update), keep, training);
  return {pixel_out.reshape({batch, height, width, channels}).permute({0, 3, 1, 2}).contiguous(), memory_out};
}

}  // namespace deeplab::models
