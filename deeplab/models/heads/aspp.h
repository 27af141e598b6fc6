#pragma once
// DeepLabv3 Atrous Spatial Pyramid Pooling: 1x1 + three atrous 3x3 (optionally
// atrous separable) + image pooling, each BN + ReLU, concatenated and
// projected (torchvision names: convs.<i>, project).  With projection_only
// (deeplab2's aspp_use_only_1x1_proj_conv: Axial-DeepLab, MaX-DeepLab) it
// degenerates to the projection alone: one 1x1 conv + BN + ReLU from the
// input, no branches, no dropout.

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>

#include <vector>

namespace deeplab::models {

struct AsppOptions {
  AsppOptions(int64_t in, std::vector<int64_t> rates) : in_channels_(in), rates_(std::move(rates)) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(std::vector<int64_t>, rates);
  TORCH_ARG(int64_t, channels) = 256;
  TORCH_ARG(double, dropout) = 0.1;    // after the projection
  TORCH_ARG(bool, separable) = false;  // atrous separable 3x3 branches (v3+)
  TORCH_ARG(bool, projection_only) = false;
};

class AsppImpl : public torch::nn::Module {
 public:
  explicit AsppImpl(const AsppOptions& options);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::ModuleList convs_{nullptr};
  std::vector<torch::nn::AnyModule> branches_;  // the same modules, callable
  torch::nn::Sequential pooling_{nullptr};
  torch::nn::Sequential project_{nullptr};
  bool projection_only_ = false;
};
TORCH_MODULE(Aspp);

}  // namespace deeplab::models
