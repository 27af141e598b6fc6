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

#include <memory>

#include "deeplab/models/layers/norm_mode.h"

namespace deeplab::core {
class ProcessGroup;
}

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
  /// After fold_batch_norms (models/fold_batch_norm.h) moved this layer's
  /// affine transform into the preceding convolution, the layer passes its
  /// input through; it can no longer train.
  void mark_folded() { folded_ = true; }
  bool is_folded() const { return folded_; }
  /// The ranks whose statistics a sync_bn layer combines (null: this process).
  void set_process_group(std::shared_ptr<core::ProcessGroup> group) { group_ = std::move(group); }

  /// sync_bn in training: statistics over the process group (sync_batch_norm.h);
  /// otherwise torch's batch norm.
  torch::Tensor forward(const torch::Tensor& input);

 protected:
  void _check_input_dim(const torch::Tensor& input) override;

 private:
  NormMode mode_ = NormMode::kBatch;
  bool folded_ = false;
  std::shared_ptr<core::ProcessGroup> group_;
};
TORCH_MODULE(Norm2d);

/// BatchNorm2d with torchvision's defaults (eps 1e-5, momentum 0.1) unless given.
Norm2d make_norm(int64_t channels, double eps = 1e-5, double momentum = 0.1);

/// True for every normalisation layer (ours, and torch's BatchNorm/GroupNorm/
/// LayerNorm in hand-built test models): the layers whose parameters never
/// get weight decay.
bool is_norm_layer(const torch::nn::Module& module);

/// Puts every Norm2d of `model` into `mode`; frozen layers stop their
/// gradients.  sync_bn layers combine the statistics of the process group
/// set_norm_process_group gives them (until then: of this process alone).
void set_norm_mode(torch::nn::Module& model, NormMode mode);

/// Sets eps and momentum of every Norm2d of `model`; a value <= 0 leaves that
/// setting as each layer has it.
void set_norm_hyperparameters(torch::nn::Module& model, double eps, double momentum);

/// Gives every Norm2d of `model` the process group its sync_bn mode uses.
void set_norm_process_group(torch::nn::Module& model, const std::shared_ptr<core::ProcessGroup>& group);

}  // namespace deeplab::models

/// Defined in norm.cpp (LibTorch defines it only for its own batch norms).
template <>
void torch::nn::BatchNormImplBase<2, deeplab::models::Norm2dImpl>::pretty_print(std::ostream& stream) const;
