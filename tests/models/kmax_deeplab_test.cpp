// kMaX-DeepLab assembled from config (model.arch: kmax_deeplab): the whole
// R50 model's weights per dataset against the parts deeplab2's tests pin,
// the named outputs with their kinds and strides, deep-supervision outputs in
// training only, and errors that name the key at fault.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

#include "deeplab/core/error.h"
#include "deeplab/models/factory.h"
#include "deeplab/models/summary.h"

namespace deeplab::models {
namespace {

// deeplab2's kmax_meta_r50_os32 on Cityscapes: 256 slots, a stride-2
// pixel-decoder stage, the semantic head on the stride-32 feature.
ModelConfig cityscapes_r50() {
  ModelConfig c;
  c.arch = "kmax_deeplab";
  c.num_classes = 19;
  c.backbone.name = "resnet50";
  c.backbone.output_stride = 32;
  c.backbone.stem_pool = false;
  c.kmax.slots = 256;
  c.kmax.high_resolution_stride = 2;
  c.kmax.semantic_decoder = false;
  return c;
}

// COCO: 128 slots, stride 4, the ASPP semantic decoder (133 classes).
ModelConfig coco_r50() {
  ModelConfig c = cityscapes_r50();
  c.num_classes = 133;
  c.kmax = KMaXModelConfig{};
  return c;
}

int64_t parameters_under(torch::nn::Module& model, const std::string& prefix) {
  int64_t n = 0;
  for (const auto& p : model.named_parameters()) {
    if (p.key().rfind(prefix, 0) == 0) n += p.value().numel();
  }
  return n;
}

// The R50 model is ResNet-50 (23,508,032: deeplab2's axial_resnet_test.py),
// the pixel decoder (21,180,608 at stride 2; 21,151,040 at 4), the
// transformer decoder with its six auxiliary heads and the final head; the
// decoder-side sums equal deeplab2's kMaX ConvNeXt-B constant less its encoder
// (tests/models/kmax_transformer_decoder_test.cpp).  The kMaX paper rounds
// the R50 model to 57M.
TEST(KMaXDeepLab, CityscapesR50WeighsWhatDeeplab2sLayoutGives) {
  DeepLab model = build_model(cityscapes_r50());
  EXPECT_EQ(parameters_under(*model, "backbone."), 23508032);
  EXPECT_EQ(parameters_under(*model, "classifier.pixel_decoder."), 21180608);
  EXPECT_EQ(parameters_under(*model, "classifier.transformer_decoder."), 10738784 + 6 * 144278);
  EXPECT_EQ(parameters_under(*model, "classifier.predictor."), 108054);
  // 5x5 depthwise 2048 + BN, 1x1 to 256 + BN, 1x1 to 19 with bias.
  EXPECT_EQ(parameters_under(*model, "classifier.semantic_head."), 584979);
  EXPECT_EQ(count_parameters(*model), 56986125);
}

// COCO (128 slots, 134 class logits with void): 56,580,120 without the
// semantic branch, as deeplab2's layout gives it; its semantic decoder ends in
// 133 classes where deeplab2's COCO head has 134 outputs (its void is class 0).
TEST(KMaXDeepLab, CocoR50WeighsWhatDeeplab2sLayoutGives) {
  DeepLab model = build_model(coco_r50());
  const int64_t semantic = parameters_under(*model, "classifier.semantic_decoder.");
  EXPECT_EQ(count_parameters(*model) - semantic, 56580120);
  EXPECT_EQ(semantic, 15856742 - 257);
}

// deeplab2's model/kmax_deeplab_test.py: kMaX-DeepLab with ConvNeXt-B on
// COCO, without the auxiliary semantic head, holds 121,513,304 weights.
TEST(KMaXDeepLab, CocoConvNeXtBaseWeighsDeeplab2sConstant) {
  ModelConfig c = coco_r50();
  c.backbone.name = "convnext_base";
  DeepLab model = build_model(c);
  EXPECT_EQ(count_parameters(*model) - parameters_under(*model, "classifier.semantic_decoder."), 121513304);
}

// Cityscapes' fifth decoder stage reads deeplab2's "stage1" endpoint, which
// for ConvNeXt is its stem at stride 4: the mask logits stay at stride 4.
TEST(KMaXDeepLab, CityscapesConvNeXtDecodesToTheStemsStride) {
  torch::manual_seed(3);
  ModelConfig c = cityscapes_r50();
  c.backbone.name = "convnext_tiny";
  c.kmax.slots = 4;
  c.kmax.decoder_dims = {32, 16, 16, 8, 8};
  c.kmax.decoder_blocks = {1, 1, 1, 1, 1};
  DeepLab model = build_model(c);
  model->eval();
  torch::NoGradGuard no_grad;
  const ModelOutputs out = model->forward_outputs(torch::randn({1, 3, 65, 129}));
  EXPECT_EQ(out.at("mask_logits").value.sizes(), (std::vector<int64_t>{1, 4, 17, 33}));
}

ModelConfig tiny_kmax() {
  ModelConfig c;
  c.arch = "kmax_deeplab";
  c.num_classes = 5;
  c.backbone.name = "mobilenet_v2";
  c.backbone.output_stride = 32;
  c.kmax.slots = 6;
  c.kmax.decoder_dims = {16, 16, 8, 8};
  c.kmax.decoder_blocks = {1, 1, 1, 1};
  c.kmax.semantic_decoder = false;
  return c;
}

TEST(KMaXDeepLab, OutputsKeepTheirStrideAndKind) {
  torch::manual_seed(0);
  DeepLab model = build_model(tiny_kmax());
  model->eval();
  torch::NoGradGuard no_grad;
  const ModelOutputs out = model->forward_outputs(torch::randn({2, 3, 64, 96}));
  EXPECT_EQ(out.at("mask_logits").value.sizes(), (std::vector<int64_t>{2, 6, 16, 24}));
  EXPECT_EQ(out.at("mask_logits").kind, OutputKind::kStrided);
  EXPECT_EQ(out.at("pixel_embedding").value.sizes(), (std::vector<int64_t>{2, 128, 16, 24}));
  EXPECT_EQ(out.at("class_logits").value.sizes(), (std::vector<int64_t>{2, 6, 6}));
  EXPECT_EQ(out.at("class_logits").kind, OutputKind::kPerSlot);
  EXPECT_EQ(out.at("semantic").value.sizes(), (std::vector<int64_t>{2, 5, 64, 96}));
  EXPECT_EQ(out.count("layer0/mask_logits"), 0u);  // deep supervision is for training
  EXPECT_EQ(out.size(), 4u);
  // forward() is the semantic head's logits, as every DeepLab's.
  EXPECT_TRUE(torch::allclose(model->forward(torch::zeros({1, 3, 64, 96})),
                              model->forward_outputs(torch::zeros({1, 3, 64, 96})).at("semantic").value));
}

TEST(KMaXDeepLab, TrainingAddsEveryLayersPredictionAtTheFinalStride) {
  torch::manual_seed(0);
  DeepLab model = build_model(tiny_kmax());
  model->train();
  const ModelOutputs out = model->forward_outputs(torch::randn({2, 3, 64, 96}));
  for (int i = 0; i < 6; ++i) {
    const std::string layer = "layer" + std::to_string(i) + "/";
    EXPECT_EQ(out.at(layer + "mask_logits").value.sizes(), (std::vector<int64_t>{2, 6, 16, 24})) << i;
    EXPECT_EQ(out.at(layer + "pixel_embedding").value.sizes(), (std::vector<int64_t>{2, 128, 16, 24})) << i;
    EXPECT_EQ(out.at(layer + "class_logits").value.sizes(), (std::vector<int64_t>{2, 6, 6})) << i;
  }
  EXPECT_EQ(out.count("layer6/mask_logits"), 0u);
}

TEST(KMaXDeepLab, ConfigErrorsNameTheKey) {
  ModelConfig c = cityscapes_r50();
  c.backbone.output_stride = 16;
  EXPECT_THROW(
      {
        try {
          build_model(c);
        } catch (const ConfigError& e) {
          EXPECT_NE(std::string(e.what()).find("model.backbone.output_stride"), std::string::npos) << e.what();
          throw;
        }
      },
      ConfigError);
  c = cityscapes_r50();
  c.backbone.stem_pool = true;  // no stride-2 feature for the stride-2 stage
  EXPECT_THROW(
      {
        try {
          build_model(c);
        } catch (const ConfigError& e) {
          EXPECT_NE(std::string(e.what()).find("stem_pool"), std::string::npos) << e.what();
          throw;
        }
      },
      ConfigError);
  c = tiny_kmax();
  c.kmax.decoder_dims = {16, 16, 8};
  EXPECT_THROW(build_model(c), ConfigError);
}

}  // namespace
}  // namespace deeplab::models
