#pragma once
// Small modules for the export tests.  SmallNet mirrors SmallNet in
// scripts/fixtures/export_fixtures.py, parameter names included.

#include <torch/torch.h>

#include "deeplab/models/layers/norm.h"
#include "deeplab/models/layers/resize.h"

namespace deeplab::testing {

struct SmallNetImpl : torch::nn::Module {
  SmallNetImpl() {
    using torch::nn::Conv2dOptions;
    stem = register_module(
        "stem", torch::nn::Sequential(torch::nn::Conv2d(Conv2dOptions(3, 4, 3).padding(1)), torch::nn::BatchNorm2d(4)));
    block = register_module("block", torch::nn::Sequential(torch::nn::Conv2d(Conv2dOptions(4, 6, 1).bias(false)),
                                                           torch::nn::BatchNorm2d(6)));
    head = register_module("head", torch::nn::Conv2d(6, 2, 1));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto y = torch::relu(stem->forward(x));
    y = torch::relu(block->forward(y));
    return head->forward(y);
  }
  torch::nn::Sequential stem{nullptr}, block{nullptr};
  torch::nn::Conv2d head{nullptr};
};
TORCH_MODULE(SmallNet);

/// conv -> BN -> ReLU -> strided conv -> classifier -> resize back to the
/// input: the shape of a segmentation model, small enough for tests.
struct ResizeNetImpl : torch::nn::Module {
  ResizeNetImpl() {
    conv1 = register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 8, 3).padding(1)));
    bn1 = register_module("bn1", torch::nn::BatchNorm2d(8));
    down = register_module("down", torch::nn::Conv2d(torch::nn::Conv2dOptions(8, 8, 3).stride(2).padding(1)));
    classifier = register_module("classifier", torch::nn::Conv2d(8, 5, 1));
  }
  std::vector<torch::Tensor> forward_all(const torch::Tensor& x) {
    auto y = torch::relu(bn1->forward(conv1->forward(x)));
    auto low = classifier->forward(torch::relu(down->forward(y)));
    return {models::resize_bilinear(low, x, /*align_corners=*/false), low};
  }
  torch::Tensor forward(const torch::Tensor& x) { return forward_all(x)[0]; }
  torch::nn::Conv2d conv1{nullptr}, down{nullptr}, classifier{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr};
};
TORCH_MODULE(ResizeNet);

/// Gives every norm layer (ours or torch's BatchNorm2d) non-trivial statistics
/// and affine parameters.
inline void randomize_batch_norms(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& m : module.modules()) {
    if (!models::is_norm_layer(*m)) continue;
    auto params = m->named_parameters(false);
    auto buffers = m->named_buffers(false);
    if (!buffers.contains("running_mean")) continue;
    buffers["running_mean"].normal_(0, 0.2);
    buffers["running_var"].uniform_(0.5, 1.5);
    params["weight"].uniform_(0.5, 1.5);
    params["bias"].normal_(0, 0.1);
  }
}

}  // namespace deeplab::testing
