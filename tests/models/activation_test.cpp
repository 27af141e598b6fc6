// The project's activations where LibTorch 1.13 needs help: GELU's gradient
// equals central differences whatever layout the gradient arrives in (a
// consumer that permutes, as axial attention and a layer norm over channels
// do); its forward is torch's exact GELU.

#include "deeplab/models/layers/activation.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <vector>

namespace deeplab::models {
namespace {

// d GELU(x) / dx = Phi(x) + x phi(x), the gradient the formula gives.
torch::Tensor gelu_derivative(const torch::Tensor& x) {
  const double pi = 3.14159265358979323846;
  return 0.5 * (1 + torch::erf(x / std::sqrt(2.0))) + x * torch::exp(-0.5 * x * x) / std::sqrt(2 * pi);
}

TEST(Gelu, GradientEqualsTheFormulaUnderAPermutingConsumer) {
  torch::manual_seed(13);
  const torch::Tensor x0 = torch::randn({4, 64, 9, 17});
  for (const auto& order : std::vector<std::vector<int64_t>>{{0, 3, 2, 1}, {0, 2, 3, 1}}) {
    const torch::Tensor x = x0.clone().requires_grad_(true);
    const torch::Tensor y = gelu_activation(x).permute(order);
    const torch::Tensor weights = torch::randn(y.sizes());
    (y * weights).sum().backward();
    // The weights as the input's gradient sees them: permuted back.
    std::vector<int64_t> back(order.size());
    for (size_t i = 0; i < order.size(); ++i) back[static_cast<size_t>(order[i])] = static_cast<int64_t>(i);
    const torch::Tensor expected = weights.permute(back) * gelu_derivative(x0);
    // torch::gelu alone: off by 4 to 7 on such layouts (LibTorch 1.13, CPU, float32).
    EXPECT_LT((x.grad() - expected).abs().max().item<double>(), 1e-4) << order;
  }
  EXPECT_TRUE(torch::equal(gelu_activation(x0), torch::gelu(x0)));
  EXPECT_TRUE(torch::equal(Gelu()->forward(x0), torch::gelu(x0)));
}

}  // namespace
}  // namespace deeplab::models
