// Axial attention and the axial residual unit: the attention equals a direct
// restatement of its formula in float64, strides and shapes, units that start
// as the identity, and drop path.  The encoders built of them:
// axial_resnet_test.cpp.

#include "deeplab/models/layers/axial_attention.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "deeplab/models/layers/axial_block.h"
#include "tests/models/gradient_check.h"

namespace deeplab::models {
namespace {

// Random affine parameters and running statistics, so that each norm's place
// in the formula shows in the result.
void randomise_norms(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& item : module.named_parameters()) {
    if (item.key().find("norm") != std::string::npos) item.value().uniform_(0.5, 1.5);
  }
  for (auto& item : module.named_buffers()) {
    if (item.key().find("running_mean") != std::string::npos) item.value().uniform_(-0.5, 0.5);
    if (item.key().find("running_var") != std::string::npos) item.value().uniform_(0.5, 2.0);
  }
}

// Eval-mode batch norm of channel c of `module.<norm>`.
struct NormAt {
  torch::Tensor weight, bias, mean, var;
  double operator()(double x, int64_t c) const {
    return (x - mean[c].item<double>()) / std::sqrt(var[c].item<double>() + 1e-5) * weight[c].item<double>() +
           bias[c].item<double>();
  }
};

NormAt norm_of(torch::nn::Module& module, const std::string& prefix) {
  const auto params = module.named_parameters();
  const auto buffers = module.named_buffers();
  return {params[prefix + ".weight"], params[prefix + ".bias"], buffers[prefix + ".running_mean"],
          buffers[prefix + ".running_var"]};
}

TEST(AxialAttention, EqualsADirectRestatementInFloat64) {
  torch::manual_seed(3);
  const int64_t in = 6, key_depth = 8, value_depth = 12, heads = 2, length = 5, batch = 2;
  AxialAttention attention(in, key_depth, value_depth, heads);
  attention->to(torch::kDouble);
  randomise_norms(*attention);
  attention->eval();
  const torch::Tensor x = torch::randn({batch, length, in}, torch::kDouble);
  const torch::Tensor ours = attention->forward(x);
  ASSERT_EQ(ours.sizes(), (std::vector<int64_t>{batch, length, value_depth}));

  auto params = attention->named_parameters();
  const torch::Tensor w = params["qkv_kernel"], rq = params["query_rpe"], rk = params["key_rpe"],
                      rv = params["value_rpe"];
  const NormAt qkv_norm = norm_of(*attention, "qkv_norm"), sim_norm = norm_of(*attention, "similarity_norm"),
               out_norm = norm_of(*attention, "output_norm");
  const int64_t dk = key_depth / heads, dv = value_depth / heads;
  const auto rel = [](int64_t l, int64_t m) { return m - l + 254; };
  double worst = 0;
  for (int64_t b = 0; b < batch; ++b) {
    // The projection and its norm, position by position.
    std::vector<std::vector<double>> qkv(length, std::vector<double>(2 * key_depth + value_depth));
    for (int64_t l = 0; l < length; ++l) {
      for (int64_t c = 0; c < 2 * key_depth + value_depth; ++c) {
        double sum = 0;
        for (int64_t i = 0; i < in; ++i) sum += w[c][i].item<double>() * x[b][l][i].item<double>();
        qkv[l][c] = qkv_norm(sum, c);
      }
    }
    const auto q = [&](int64_t h, int64_t l, int64_t d) { return qkv[l][h * dk + d]; };
    const auto k = [&](int64_t h, int64_t l, int64_t d) { return qkv[l][key_depth + h * dk + d]; };
    const auto v = [&](int64_t h, int64_t l, int64_t d) { return qkv[l][2 * key_depth + h * dv + d]; };
    for (int64_t h = 0; h < heads; ++h) {
      for (int64_t l = 0; l < length; ++l) {
        std::vector<double> logits(length);
        for (int64_t m = 0; m < length; ++m) {
          double content = 0, query_term = 0, key_term = 0;
          for (int64_t d = 0; d < dk; ++d) {
            content += q(h, l, d) * k(h, m, d);
            query_term += q(h, l, d) * rq[rel(l, m)][d].item<double>();
            key_term += k(h, m, d) * rk[rel(l, m)][d].item<double>();
          }
          logits[m] = sim_norm(content, h) + sim_norm(query_term, heads + h) + sim_norm(key_term, 2 * heads + h);
        }
        double top = *std::max_element(logits.begin(), logits.end()), total = 0;
        for (auto& z : logits) total += (z = std::exp(z - top));
        for (int64_t d = 0; d < dv; ++d) {
          double content = 0, position = 0;
          for (int64_t m = 0; m < length; ++m) {
            content += logits[m] / total * v(h, m, d);
            position += logits[m] / total * rv[rel(l, m)][d].item<double>();
          }
          const int64_t channel = h * dv + d;
          const double expected = out_norm(content, channel) + out_norm(position, value_depth + channel);
          worst = std::max(worst, std::abs(expected - ours[b][l][channel].item<double>()));
        }
      }
    }
  }
  EXPECT_LT(worst, 1e-12);
}

// Training mode (batch statistics): autograd's input gradient equals
// central differences; LibTorch 1.13's batch norm on the transposed
// projection gave a gradient off by the order of the gradient itself.
TEST(AxialAttention, TrainingGradientEqualsFiniteDifferences) {
  torch::manual_seed(5);
  AxialAttention attention(6, 8, 12, 2);
  attention->to(torch::kDouble);
  attention->train();
  const double error = testing::finite_difference_error([&](const torch::Tensor& x) { return attention->forward(x); },
                                                        torch::randn({2, 5, 6}, torch::kDouble));
  EXPECT_LT(error, 1e-6);
}

TEST(AxialAttention, RelativePositionsBeyondTheSpanShareTheEdgeRows) {
  const torch::Tensor index = relative_distance_index(300, torch::kCPU);
  EXPECT_EQ(index[0][0].item<int64_t>(), 254);    // the same position
  EXPECT_EQ(index[10][13].item<int64_t>(), 257);  // 3 to the right
  EXPECT_EQ(index[13][10].item<int64_t>(), 251);  // 3 to the left
  EXPECT_EQ(index[0][299].item<int64_t>(), 508);  // beyond +254
  EXPECT_EQ(index[299][0].item<int64_t>(), 0);    // beyond -254
}

TEST(AxialAttention2D, AttendsAlongBothAxesWithTheStride) {
  torch::manual_seed(1);
  AxialAttention2D attention(16, 8, 16, /*stride=*/2);
  attention->eval();
  const torch::Tensor y = attention->forward(torch::randn({2, 16, 9, 7}));
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 16, 5, 4}));
  // Global along each axis: a change in one corner reaches the far corner.
  torch::Tensor x = torch::randn({1, 16, 9, 7});
  const torch::Tensor before = attention->forward(x);
  x[0][0][0][0] += 5.0;
  const torch::Tensor after = attention->forward(x);
  EXPECT_GT((after[0].select(1, 4).select(1, 3) - before[0].select(1, 4).select(1, 3)).abs().max().item<double>(), 0);
}

TEST(AxialBlock, StartsAsTheIdentityOfItsActivatedInput) {
  torch::manual_seed(2);
  for (const std::string kind : {"conv", "axial", "basic"}) {
    AxialBlock block(AxialBlockOptions(32, 8).axial(kind == "axial").basic(kind == "basic"));
    block->eval();  // running statistics: the zero-gamma BN gives exactly 0
    const torch::Tensor x = torch::randn({2, 32, 6, 5});
    EXPECT_TRUE(torch::equal(block->forward(x), torch::relu(x))) << kind;
  }
  EXPECT_THROW(AxialBlock(AxialBlockOptions(16, 8).axial(true).basic(true)), std::exception);
  AxialBlock strided(AxialBlockOptions(16, 8).axial(true).stride(2));
  EXPECT_EQ(strided->forward(torch::randn({2, 16, 6, 5})).sizes(), (std::vector<int64_t>{2, 32, 3, 3}));
  EXPECT_THROW(AxialBlock(AxialBlockOptions(16, 8).activation("swish")), std::exception);
}

TEST(DropPath, KeepsWholeSamplesAndTheExpectation) {
  torch::manual_seed(4);
  const torch::Tensor x = torch::ones({4000, 2, 3, 3});
  const torch::Tensor y = drop_path(x, 0.8, /*training=*/true);
  const torch::Tensor per_sample = y.flatten(1);
  // Every sample is all dropped (0) or all kept (1 / 0.8).
  EXPECT_TRUE(torch::equal(per_sample.amin(1), per_sample.amax(1)));
  EXPECT_TRUE(((per_sample.amin(1) == 0) | ((per_sample.amin(1) - 1.25).abs() < 1e-6)).all().item<bool>());
  EXPECT_NEAR(y.mean().item<double>(), 1.0, 0.05);
  EXPECT_TRUE(torch::equal(drop_path(x, 0.8, /*training=*/false), x));
}

}  // namespace
}  // namespace deeplab::models
