// MaX-DeepLab assembled from config (model.arch: max_deeplab): the MaX-S
// encoder with its memory path weighs deeplab2's test constant, the outputs
// have deeplab2's shapes, the memory gets a gradient, and configuration
// errors name the key at fault.  The dual-path transformer layer alone:
// dual_path_transformer_test.cpp.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

#include "deeplab/models/factory.h"
#include "deeplab/models/layers/dual_path_transformer.h"
#include "deeplab/models/summary.h"

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
  const std::vector<std::string> encoder = {"backbone.", "classifier.decoder.", "classifier.class_feature.",
                                            "classifier.mask_feature."};
  EXPECT_EQ(parameters_under(*model, encoder), 61726624);
  EXPECT_EQ(parameters_under(*model, {"backbone.stage"}) - parameters_under(*model, {"backbone.stage5_transformer"}) +
                parameters_under(*model, {"backbone.stem."}),
            41343424);
}

// deeplab2's max_deeplab_l: Axial-SWideRNet with one decoder stack in the
// backbone (175,115,392 as max_deeplab_l_backbone, axial_resnet_test.cpp),
// dual-path layers from stride 16, a 512-wide memory and one more stack of
// three-unit stages: 450,523,232.
TEST(MaXDeepLab, LargeEncoderWeighsDeeplab2sConstant) {
  ModelConfig c = max_deeplab_s_coco();
  c.backbone.name = "max_deeplab_l_backbone";
  c.max.memory_channels = 512;
  c.max.transformer_expansion = 2.0;
  c.max.slot_feature_channels = 512;
  c.max.transformer_beyond_stride = 16;
  c.max.extra_decoder_stacks = 1;
  c.max.extra_decoder_blocks = 3;
  DeepLab model = build_model(c);
  EXPECT_EQ(parameters_under(
                *model, {"backbone.", "classifier.decoder.", "classifier.class_feature.", "classifier.mask_feature."}),
            450523232);
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

// MaX-DeepLab-L's structure at a sixteenth of its width: the decoder goes
// 16 -> 4 -> 16 inside the backbone and again after it, ending at stride 4;
// every weight gets a gradient (none is left out of the computation).
TEST(MaXDeepLab, LargeDecodesThroughBothStacksAndTrainsEveryWeight) {
  torch::manual_seed(4);
  ModelConfig c = max_deeplab_s_coco();
  c.backbone.name = "max_deeplab_l_backbone";
  c.backbone.width_mult = 0.0625;
  c.backbone.stem_width_mult = 0.25;
  c.backbone.layer_mult = 0.34;
  c.max.slots = 8;
  c.max.memory_channels = 32;
  c.max.transformer_expansion = 0.25;
  c.max.ffn_channels = 64;
  c.max.slot_feature_channels = 32;
  c.max.embedding_channels = 16;
  c.max.head_channels = 32;
  c.max.transformer_beyond_stride = 16;
  c.max.extra_decoder_stacks = 1;
  c.max.extra_decoder_blocks = 1;
  DeepLab model = build_model(c);
  model->train();
  const ModelOutputs outputs = model->forward_outputs(torch::randn({2, 3, 65, 65}));
  EXPECT_EQ(outputs.at("mask_logits").value.sizes(), (std::vector<int64_t>{2, 8, 17, 17}));
  EXPECT_EQ(outputs.at("semantic").value.sizes(), (std::vector<int64_t>{2, 133, 65, 65}));
  (outputs.at("mask_logits").value.square().mean() + outputs.at("class_logits").value.square().mean() +
   outputs.at("semantic").value.square().mean())
      .backward();
  for (const auto& p : model->named_parameters()) {
    EXPECT_TRUE(p.value().grad().defined()) << p.key();
  }
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

}  // namespace
}  // namespace deeplab::models
