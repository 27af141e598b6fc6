// MaX-DeepLab's dual-path transformer layer: it starts as the identity of
// its pixels (zero-gamma output projections), each path reads the other, and
// its training-mode gradients equal central differences in float64 through
// both paths (LibTorch 1.13's batch-norm backward is wrong for some strides).

#include "deeplab/models/layers/dual_path_transformer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

#include "tests/models/gradient_check.h"

namespace deeplab::models {
namespace {

// Zero-gamma output projections: the layer starts as (P, relu(M)).
TEST(DualPathTransformer, StartsAsTheIdentityOfItsPixels) {
  torch::manual_seed(1);
  DualPathTransformer layer(DualPathTransformerOptions(24, 32).filters(16).ffn_channels(40));
  layer->eval();
  const torch::Tensor pixels = torch::randn({2, 24, 5, 4});
  const torch::Tensor memory = torch::randn({2, 6, 32});
  const auto [p, m] = layer->forward(pixels, memory);
  EXPECT_TRUE(torch::equal(p, pixels));
  EXPECT_TRUE(torch::equal(m, torch::relu(memory)));
}

void randomise_gammas(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& p : module.named_parameters()) {
    if (p.key().find("norm.weight") != std::string::npos) p.value().uniform_(0.5, 1.5);
  }
}

// With every branch open, each output depends on both inputs (the memory
// reads the pixels, the pixels read the memory), and training-mode
// gradients equal central differences in float64 through both paths.
TEST(DualPathTransformer, BothPathsReadEachOtherWithExactGradients) {
  torch::manual_seed(2);
  DualPathTransformer layer(DualPathTransformerOptions(16, 24).filters(16).ffn_channels(32));
  randomise_gammas(*layer);
  layer->to(torch::kDouble);
  layer->train();
  const torch::Tensor pixels = torch::randn({2, 16, 3, 4}, torch::kDouble);
  const torch::Tensor memory = torch::randn({2, 5, 24}, torch::kDouble);
  const auto through_pixels = [&](const torch::Tensor& x) { return layer->forward(x, memory).second; };
  const auto through_memory = [&](const torch::Tensor& x) { return layer->forward(pixels, x).first; };
  EXPECT_LT(testing::finite_difference_error(through_pixels, pixels), 1e-6);
  EXPECT_LT(testing::finite_difference_error(through_memory, memory), 1e-6);
  const auto pixel_only = [&](const torch::Tensor& x) { return layer->forward(x, memory).first; };
  EXPECT_LT(testing::finite_difference_error(pixel_only, pixels), 1e-6);
}

}  // namespace
}  // namespace deeplab::models
