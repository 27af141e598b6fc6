// ConvNeXt: each variant weighs deeplab2's test constant (which torchvision's
// features equal), features at strides 4-32 with deeplab2's widths, blocks
// that start near the identity (layer scale 1e-6), drop path from 1 down to
// the configured keep, and the stride-32-only rule named by its key.
// Parity with torchvision: torchvision_parity_test.cpp.

#include "deeplab/models/backbones/convnext.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "deeplab/models/factory.h"
#include "deeplab/models/summary.h"

namespace deeplab::models {
namespace {

// deeplab2's model/pixel_encoder/convnext_test.py (no classification head).
TEST(ConvNeXt, EveryVariantWeighsDeeplab2sConstant) {
  const std::vector<std::pair<std::string, int64_t>> expected = {
      {"tiny", 27818592}, {"small", 49453152}, {"base", 87564416}, {"large", 196227264}};
  for (const auto& [variant, count] : expected) {
    ConvNeXt net{ConvNeXtOptions(variant)};
    EXPECT_EQ(count_parameters(*net), count) << variant;
  }
  EXPECT_THROW(ConvNeXt(ConvNeXtOptions("huge")), std::exception);
}

// deeplab2's shapes at 224: 56, 28, 14, 7 with the variant's widths.
TEST(ConvNeXt, FeaturesHaveDeeplab2sStridesAndWidths) {
  torch::manual_seed(0);
  ConvNeXt net(ConvNeXtOptions("tiny"));
  net->eval();
  torch::NoGradGuard no_grad;
  const Features features = net->forward(torch::randn({1, 3, 224, 224}));
  const std::vector<std::tuple<std::string, int64_t, int64_t>> expected = {
      {"res1", 96, 56}, {"res2", 96, 56}, {"res3", 192, 28}, {"res4", 384, 14}, {"res5", 768, 7}};
  for (const auto& [name, channels, size] : expected) {
    EXPECT_EQ(features.at(name).sizes(), (std::vector<int64_t>{1, channels, size, size})) << name;
    EXPECT_EQ(net->spec(name).stride, 224 / size) << name;
  }
  // deeplab2's padding: a 1025-pixel side gives ceil(1025 / s) at every stride.
  const Features odd = net->forward(torch::randn({1, 3, 1025 / 8, 65}));
  EXPECT_EQ(odd.at("res2").sizes(), (std::vector<int64_t>{1, 96, 32, 17}));
  EXPECT_EQ(odd.at("res5").sizes(), (std::vector<int64_t>{1, 768, 4, 3}));
  ConvNeXt unpadded(ConvNeXtOptions("tiny").pad_for_downstream(false));
  unpadded->eval();
  EXPECT_EQ(unpadded->forward(torch::randn({1, 3, 128, 65})).at("res2").sizes(), (std::vector<int64_t>{1, 96, 32, 16}));
}

// With layer scales of 1e-6 a block adds a millionth of what its branch
// adds at scale 1 (same seed, same weights otherwise; float64, so that the
// millionth is not lost to rounding).
TEST(ConvNeXt, BlocksStartNearTheIdentity) {
  torch::manual_seed(0);
  const torch::Tensor x = torch::randn({2, 16, 9, 9}, torch::kDouble);
  const auto change = [&](double scale) {
    torch::manual_seed(1);
    ConvNeXtBlock block(16, scale, 1.0);
    block->to(torch::kDouble);
    block->eval();
    return (block->forward(x) - x).abs().max().item<double>();
  };
  const double at_init = change(1e-6), at_one = change(1.0);
  EXPECT_GT(at_one, 1e-3);
  EXPECT_NEAR(at_init / at_one, 1e-6, 1e-9);
}

TEST(ConvNeXt, DropPathFallsLinearlyOverTheBlocks) {
  ConvNeXt net(ConvNeXtOptions("tiny").drop_path_keep(0.6));
  std::vector<double> keeps;
  for (const auto& module : net->modules(/*include_self=*/false)) {
    if (const auto* block = module->as<ConvNeXtBlockImpl>()) keeps.push_back(block->drop_path_keep());
  }
  ASSERT_EQ(keeps.size(), 18u);
  EXPECT_DOUBLE_EQ(keeps.front(), 1.0);
  EXPECT_DOUBLE_EQ(keeps.back(), 0.6);
  EXPECT_NEAR(keeps[9], 1.0 - 0.4 * 9.0 / 17.0, 1e-12);
}

TEST(ConvNeXt, OtherOutputStridesAreRefusedByKey) {
  ModelConfig c;
  c.arch = "kmax_deeplab";
  c.num_classes = 19;
  c.backbone.name = "convnext_tiny";
  c.backbone.output_stride = 16;
  try {
    build_model(c);
    FAIL() << "expected a ConfigError";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("model.backbone.output_stride"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace deeplab::models
