// The one norm layer: BatchNorm2d's names and numbers, a frozen mode that
// survives train(), is_norm_layer() for every norm type, and model.norm
// selecting the mode of every norm layer a model builds.

#include "deeplab/models/layers/norm.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "deeplab/core/error.h"
#include "deeplab/models/factory.h"

namespace deeplab::models {
namespace {

TEST(Norm2d, SameNamesAndNumbersAsBatchNorm2d) {
  torch::manual_seed(0);
  Norm2d ours = make_norm(6, 1e-3, 0.01);
  torch::nn::BatchNorm2d theirs(torch::nn::BatchNorm2dOptions(6).eps(1e-3).momentum(0.01));
  std::vector<std::string> our_names, their_names;
  for (const auto& p : ours->named_parameters()) our_names.push_back(p.key());
  for (const auto& b : ours->named_buffers()) our_names.push_back(b.key());
  for (const auto& p : theirs->named_parameters()) their_names.push_back(p.key());
  for (const auto& b : theirs->named_buffers()) their_names.push_back(b.key());
  EXPECT_EQ(our_names, their_names);  // weight, bias, running_mean, running_var, num_batches_tracked
  const auto x = torch::randn({4, 6, 5, 5});
  EXPECT_TRUE(torch::allclose(ours->forward(x), theirs->forward(x)));
  EXPECT_TRUE(torch::allclose(ours->running_mean, theirs->running_mean));
}

TEST(Norm2d, FrozenStaysInEvalModeAndKeepsItsStatistics) {
  Norm2d norm = make_norm(3);
  norm->set_mode(NormMode::kFrozen);
  norm->train();
  EXPECT_FALSE(norm->is_training());
  for (const auto& p : norm->parameters()) EXPECT_FALSE(p.requires_grad());
  norm->forward(torch::randn({2, 3, 4, 4}) * 5 + 3);
  EXPECT_TRUE(torch::equal(norm->running_mean, torch::zeros({3})));
  norm->set_mode(NormMode::kBatch);
  norm->train();
  EXPECT_TRUE(norm->is_training());
}

TEST(Norm2d, EveryNormTypeIsRecognised) {
  EXPECT_TRUE(is_norm_layer(*make_norm(3)));
  EXPECT_TRUE(is_norm_layer(*torch::nn::BatchNorm2d(3)));
  EXPECT_TRUE(is_norm_layer(*torch::nn::GroupNorm(1, 3)));
  EXPECT_TRUE(is_norm_layer(*torch::nn::LayerNorm(torch::nn::LayerNormOptions({3}))));
  EXPECT_FALSE(is_norm_layer(*torch::nn::Conv2d(3, 3, 1)));
}

TEST(Norm2d, ModelNormSelectsTheModeOfEveryLayer) {
  ModelConfig c;
  c.backbone.name = "mobilenet_v3_small";
  c.norm = "frozen_bn";
  DeepLab model = build_model(c);
  model->train();
  int norms = 0;
  for (const auto& module : model->modules()) {
    if (!is_norm_layer(*module)) continue;
    ++norms;
    EXPECT_FALSE(module->is_training());
    for (const auto& p : module->parameters()) EXPECT_FALSE(p.requires_grad());
  }
  EXPECT_GT(norms, 20);
  // Only Norm2d is built: a torch BatchNorm2d would have escaped model.norm.
  for (const auto& module : model->modules()) {
    if (is_norm_layer(*module)) {
      EXPECT_NE(dynamic_cast<Norm2dImpl*>(module.get()), nullptr) << module->name();
    }
  }
}

TEST(Norm2d, UnknownNormsAreClearErrors) {
  try {
    parse_norm_mode("batchnorm");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("model.norm: 'batchnorm'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace deeplab::models
