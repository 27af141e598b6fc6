// MaX-DeepLab assembled from config (model.arch: max_deeplab): the MaX-S
// encoder with its memory path weighs deeplab2's test constant, the outputs
// have deeplab2's shapes, the dual-path transformer layer starts as the
// identity of its pixels and its gradients equal finite differences, and
// configuration errors name the key at fault.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

#include "deeplab/models/factory.h"
#include "deeplab/models/layers/dual_path_transformer.h"
#include "deeplab/models/summary.h"
#include "tests/models/gradient_check.h"

namespace deeplab::models {
namespace {

// deeplab2's configs/coco/max_deeplab/max_deeplab_s_os16_res641_*.
ModelConfig max_deeplab_s_coco() {
  ModelConfig c;
  c.arch = "max_deeplab";
  c.num_classes = 133;
  c.backbone.name = "max_deeplab_s_backbone";
  c.backbone.output_stride = 16;
  c.backbone.drop_path_keep = 0.8;
  return c;
}

int64_t parameters_under(torch::nn::Module& model, const std::vector<std::string>& prefixes) {
  int64_t n = 0;
  for (const auto& p : model.named_parameters()) {
    for (const auto& prefix : prefixes) {
      if (p.key().rfind(prefix, 0) == 0) n += p.value().numel();
    }
  }
  return n;
}

// deeplab2's axial_resnet_instances_test.py: max_deeplab_s, the encoder with
// its dual-path layers, memory, extra stage, stacked decoder down to stride
// 4 and the memory's class and mask features, weighs 61,726,624.  The
// backbone alone (max_deeplab_s_backbone) is 41,343,424.
TEST(MaXDeepLab, SmallEncoderWeighsDeeplab2sConstant) {
  DeepLab model = build_model(max_deeplab_s_coco());
  const std::vector<std::string> encoder = {"backbone.",
                                            "classifier.extra_unit.",
                                            "classifier.extra_transformer.",
                                            "classifier.fuse",
                                            "classifier.decoder_unit",
                                            "classifier.class_feature.",
                                            "classifier.mask_feature."};
  EXPECT_EQ(parameters_under(*model, encoder), 61726624);
  EXPECT_EQ(parameters_under(*model, {"backbone.stage"}) - parameters_under(*model, {"backbone.stage5_transformer"}) +
                parameters_under(*model, {"backbone.stem."}),
            41343424);
}

// deeplab2's shapes at 65 x 65: the stride-4 pixel feature 17 x 17, 128
// slots, 133 classes and void.
TEST(MaXDeepLab, OutputsHaveDeeplab2sShapesAndKinds) {
  torch::manual_seed(0);
  ModelConfig c = max_deeplab_s_coco();
  c.backbone.width_mult = 0.25;  // the same structure, a quarter as wide
  c.max.memory_channels = 64;
  c.max.ffn_channels = 128;
  c.max.slots = 16;
  DeepLab model = build_model(c);
  model->eval();
  const ModelOutputs outputs = model->forward_outputs(torch::randn({2, 3, 65, 65}));
  EXPECT_EQ(outputs.at("mask_logits").value.sizes(), (std::vector<int64_t>{2, 16, 17, 17}));
  EXPECT_EQ(outputs.at("mask_logits").kind, OutputKind::kStrided);
  EXPECT_EQ(outputs.at("pixel_embedding").value.sizes(), (std::vector<int64_t>{2, 128, 17, 17}));
  EXPECT_EQ(outputs.at("class_logits").value.sizes(), (std::vector<int64_t>{2, 16, 134}));
  EXPECT_EQ(outputs.at("class_logits").kind, OutputKind::kPerSlot);
  EXPECT_EQ(outputs.at("semantic").value.sizes(), (std::vector<int64_t>{2, 133, 65, 65}));
  // Training adds no per-layer predictions (MaX-DeepLab has none) and the
  // loss's gradient reaches the memory.
  model->train();
  const ModelOutputs trained = model->forward_outputs(torch::randn({2, 3, 65, 65}));
  EXPECT_EQ(trained.size(), 4u);
  (trained.at("mask_logits").value.square().mean() + trained.at("class_logits").value.square().mean()).backward();
  const torch::Tensor memory_grad = model->backbone().named_parameters()["memory"].grad();
  ASSERT_TRUE(memory_grad.defined());
  EXPECT_GT(memory_grad.abs().sum().item<double>(), 0);
}

TEST(MaXDeepLab, ConfigErrorsNameTheKey) {
  ModelConfig c = max_deeplab_s_coco();
  c.backbone.name = "resnet50";
  try {
    build_model(c);
    FAIL() << "expected a ConfigError";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("model.backbone.name"), std::string::npos) << e.what();
  }
}

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
