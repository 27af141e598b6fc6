#include "deeplab/models/layers/sequence_projection.h"

#include <torch/torch.h>

#include <cmath>

#include "deeplab/models/layers/axial_attention.h"

namespace deeplab::models {

void he_normal_(torch::Tensor weight, int64_t fan_in) {
  truncated_normal_(weight, std::sqrt(2.0 / static_cast<double>(fan_in)) / 0.87962566103423978);
}

torch::Tensor norm_sequence(Norm2d& norm, const torch::Tensor& x) {
  // As [B x N, C, 1, 1] rows: contiguous, and so is every gradient reshaped
  // back into it.  A transposed [B, C, N, 1] view is channels-last-strided,
  // and LibTorch 1.13's CPU batch-norm backward gives a wrong input gradient
  // when input and output gradient are strided differently (KMaXGradients).
  const int64_t channels = x.size(-1);
  return norm->forward(x.reshape({-1, channels, 1, 1})).view(x.sizes());
}

SequenceProjectionImpl::SequenceProjectionImpl(int64_t in, int64_t out, bool zero_gamma, double kernel_std) {
  linear_ = register_module("linear", torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(false)));
  if (kernel_std > 0) {
    truncated_normal_(linear_->weight, kernel_std);
  } else {
    he_normal_(linear_->weight, in);
  }
  norm_ = register_module("norm", Norm2d(out));
  if (zero_gamma) torch::nn::init::zeros_(norm_->weight);
}

torch::Tensor SequenceProjectionImpl::forward(const torch::Tensor& x) {
  return norm_sequence(norm_, linear_->forward(x));
}

}  // namespace deeplab::models
