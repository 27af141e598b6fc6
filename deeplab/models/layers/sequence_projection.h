#pragma once
// deeplab2's Conv1D with batch norm over a sequence of tokens (mask slots,
// or flattened pixels): a bias-free linear map per token, then one batch
// norm per channel over every token of the batch.

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>

#include "deeplab/models/layers/norm.h"

namespace deeplab::models {

/// A 1x1 projection over a sequence [B, N, in] -> [B, N, out], bias-free,
/// with a batch norm over (B, N) per channel: deeplab2's Conv1D(use_bn).
class SequenceProjectionImpl : public torch::nn::Module {
 public:
  /// `kernel_std` > 0: truncated-normal kernel of that std, else He normal.
  /// `zero_gamma`: the norm starts at gamma 0 (a residual branch that starts silent).
  SequenceProjectionImpl(int64_t in, int64_t out, bool zero_gamma = false, double kernel_std = 0);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Linear linear_{nullptr};
  Norm2d norm_{nullptr};
};
TORCH_MODULE(SequenceProjection);

/// Batch norm over the channels of a [B, N, C] sequence (statistics over B and N).
torch::Tensor norm_sequence(Norm2d& norm, const torch::Tensor& x);

/// TensorFlow's he_normal: truncated normal of std sqrt(2 / fan_in) / 0.8796
/// (the truncation's variance correction).
void he_normal_(torch::Tensor weight, int64_t fan_in);

}  // namespace deeplab::models
