#pragma once
// The one normalisation layer every model in the project builds: torch's
// batch norm (BatchNormImplBase, so the same parameter and buffer names and
// the same numbers as torch::nn::BatchNorm2d: torchvision weights and old
// checkpoints load) plus a mode that `model.norm` selects after
// construction, as PyTorch's SyncBatchNorm.convert_sync_batchnorm does:
//   bn         batch statistics in training, running statistics in eval;
//   frozen_bn  always running statistics, affine parameters not trained
//              (DeepLab's fine_tune_batch_norm: false);
//   sync_bn    batch statistics over all processes (distributed training).
// Code that needs to find norm layers asks is_norm_layer(), never a cast.

#include <torch/nn/modules/batchnorm.h>

#include "deeplab/models/layers/norm_mode.h"

namespace deeplab::models {

// Not derived from torch::nn::BatchNorm2dImpl: LibTorch 1.13 does not export
// the base's pretty_print, so a subclass of it cannot link.
class Norm2dImpl : public torch::nn::BatchNormImplBase<2, Norm2dImpl> {
 public:
  explicit Norm2dImpl(int64_t channels) : Norm2dImpl(torch::nn::BatchNormOptions(channels)) {}
  explicit Norm2dImpl(const torch::nn::BatchNormOptions& options) : BatchNormImplBase(options) {}

  /// A frozen layer stays in eval mode whatever the model is switched to.
  void train(bool on = true) override;
  void set_mode(NormMode mode);
  NormMode mode() const { return mode_; }

 protected:
  void _check_input_dim(const torch::Tensor& input) override;

 private:
  NormMode mode_ = NormMode::kBatch;
};
TORCH_MODULE(Norm2d);

/// BatchNorm2d with torchvision's defaults (eps 1e-5, momentum 0.1) unless given.
Norm2d make_norm(int64_t channels, double eps = 1e-5, double momentum = 0.1);

/// True for every normalisation layer (ours, and torch's BatchNorm/GroupNorm/
/// LayerNorm in hand-built test models): the layers whose parameters never
/// get weight decay.
bool is_norm_layer(const torch::nn::Module& module);

/// Puts every Norm2d of `model` into `mode`; frozen layers stop their
/// gradients.  sync_bn without a process group is a ConfigError until the
/// distributed trainer provides one.
void set_norm_mode(torch::nn::Module& model, NormMode mode);

}  // namespace deeplab::models

/// Defined in norm.cpp (LibTorch defines it only for its own batch norms).
template <>
void torch::nn::BatchNormImplBase<2, deeplab::models::Norm2dImpl>::pretty_print(std::ostream& stream) const;
