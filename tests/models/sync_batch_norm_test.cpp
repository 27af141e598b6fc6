// SyncBN through its own autograd path with no process group (one rank)
// equals torch's BatchNorm2d: outputs, all gradients and running statistics,
// to 1e-12 in float64 and 1e-6 in float32.  The multi-process equality is in
// tests/train/distributed_test.cpp.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "deeplab/models/layers/norm.h"

namespace deeplab::models {
namespace {

struct BnRun {
  torch::Tensor output, input_grad, weight_grad, bias_grad, running_mean, running_var;
};

template <class Layer>
BnRun run_two_steps(Layer& layer, const torch::Tensor& x0, const torch::Tensor& x1) {
  BnRun run;
  layer->forward(x0);  // first step only moves the running statistics
  auto x = x1.clone().requires_grad_(true);
  run.output = layer->forward(x);
  // A loss whose gradient differs per element, so every backward term matters.
  (run.output * torch::linspace(-1, 2, run.output.numel(), x.options()).view(run.output.sizes())).sum().backward();
  run.input_grad = x.grad();
  run.weight_grad = layer->weight.grad();
  run.bias_grad = layer->bias.grad();
  run.running_mean = layer->running_mean.clone();
  run.running_var = layer->running_var.clone();
  return run;
}

void expect_same(const BnRun& a, const BnRun& b, double tolerance) {
  const auto close = [tolerance](const torch::Tensor& x, const torch::Tensor& y) {
    return (x - y).abs().max().item<double>() <= tolerance * std::max(1.0, y.abs().max().item<double>());
  };
  EXPECT_TRUE(close(a.output, b.output)) << (a.output - b.output).abs().max();
  EXPECT_TRUE(close(a.input_grad, b.input_grad)) << (a.input_grad - b.input_grad).abs().max();
  EXPECT_TRUE(close(a.weight_grad, b.weight_grad)) << (a.weight_grad - b.weight_grad).abs().max();
  EXPECT_TRUE(close(a.bias_grad, b.bias_grad)) << (a.bias_grad - b.bias_grad).abs().max();
  EXPECT_TRUE(close(a.running_mean, b.running_mean));
  EXPECT_TRUE(close(a.running_var, b.running_var));
}

void check_against_batch_norm(torch::Dtype dtype, double tolerance) {
  torch::manual_seed(3);
  const auto options = torch::TensorOptions().dtype(dtype);
  const auto x0 = torch::randn({3, 5, 7, 6}, options) * 3 + 2;
  const auto x1 = torch::randn({3, 5, 7, 6}, options) * 0.5 - 1;
  Norm2d ours = make_norm(5, 1e-3, 0.3);
  ours->set_mode(NormMode::kSync);
  torch::nn::BatchNorm2d theirs(torch::nn::BatchNorm2dOptions(5).eps(1e-3).momentum(0.3));
  {
    torch::NoGradGuard no_grad;
    theirs->weight.uniform_(0.5, 1.5);
    theirs->bias.uniform_(-1, 1);
    ours->weight.copy_(theirs->weight);
    ours->bias.copy_(theirs->bias);
  }
  ours->to(dtype);
  theirs->to(dtype);
  ours->train();
  theirs->train();
  expect_same(run_two_steps(ours, x0, x1), run_two_steps(theirs, x0, x1), tolerance);
}

TEST(SyncBatchNorm, OneRankEqualsBatchNorm2dInFloat64) { check_against_batch_norm(torch::kDouble, 1e-12); }

TEST(SyncBatchNorm, OneRankEqualsBatchNorm2dInFloat32) { check_against_batch_norm(torch::kFloat, 1e-6); }

TEST(SyncBatchNorm, EvalModeUsesTheRunningStatistics) {
  Norm2d norm = make_norm(2);
  norm->set_mode(NormMode::kSync);
  {
    torch::NoGradGuard no_grad;
    norm->running_mean.fill_(1.0);
    norm->running_var.fill_(4.0);
  }
  norm->eval();
  const auto y = norm->forward(torch::full({1, 2, 2, 2}, 3.0));
  EXPECT_NEAR(y.max().item<double>(), 2.0 / std::sqrt(4.0 + 1e-5), 1e-6);
}

}  // namespace
}  // namespace deeplab::models
