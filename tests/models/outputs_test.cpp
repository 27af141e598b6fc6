// Named outputs: what a model returns in each mode, how each kind of output
// follows a resize and a flip, and which parameters a model calls its head.

#include "deeplab/models/outputs.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>

#include "deeplab/models/factory.h"

namespace deeplab::models {
namespace {

std::set<std::string> names_of(const ModelOutputs& outputs) {
  std::set<std::string> names;
  for (const auto& [name, output] : outputs) names.insert(name);
  return names;
}

TEST(ModelOutputs, TrainingOutputsOnlyWhenAsked) {
  ModelConfig c;
  c.arch = "deeplabv2";
  c.num_classes = 3;
  c.backbone.name = "mobilenet_v3_small";
  c.aux_loss = true;
  DeepLab model = build_model(c);  // v2: MSC at 1, 0.75, 0.5
  model->eval();
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({1, 3, 33, 41});
  EXPECT_EQ(names_of(model->forward_outputs(x)), (std::set<std::string>{"semantic"}));
  const auto all = model->forward_outputs(x, true);
  EXPECT_EQ(names_of(all), (std::set<std::string>{"semantic", "aux", "msc/1", "msc/0.75", "msc/0.5"}));
  for (const auto& [name, output] : all) EXPECT_EQ(output.value.sizes(), (std::vector<int64_t>{1, 3, 33, 41})) << name;
  EXPECT_TRUE(torch::equal(model->forward(x), all.at("semantic").value));
  // The fused logits are the per-pixel max of the scales.
  const auto fused = torch::max(torch::max(all.at("msc/1").value, all.at("msc/0.75").value), all.at("msc/0.5").value);
  EXPECT_TRUE(torch::equal(fused, all.at("semantic").value));
}

TEST(ModelOutputs, OffsetsScaleWithTheSizeAndFlipTheirX) {
  // A constant offset field (dy, dx) = (2, 3) on a 5 x 9 grid.
  const ModelOutput offsets{torch::stack({torch::full({5, 9}, 2.0), torch::full({5, 9}, 3.0)}).unsqueeze(0),
                            OutputKind::kOffsets};
  const auto up = resize_output(offsets, 9, 17, /*align_corners=*/true);  // (9-1)/(5-1) = 2, (17-1)/(9-1) = 2
  EXPECT_TRUE(torch::allclose(up[0][0], torch::full({9, 17}, 4.0)));
  EXPECT_TRUE(torch::allclose(up[0][1], torch::full({9, 17}, 6.0)));
  const auto up_half_pixel = resize_output(offsets, 10, 27, /*align_corners=*/false);  // x2, x3
  EXPECT_TRUE(torch::allclose(up_half_pixel[0][0], torch::full({10, 27}, 4.0)));
  EXPECT_TRUE(torch::allclose(up_half_pixel[0][1], torch::full({10, 27}, 9.0)));
  const auto flipped = flip_output(offsets);
  EXPECT_TRUE(torch::equal(flipped[0][0], offsets.value[0][0]));
  EXPECT_TRUE(torch::equal(flipped[0][1], -offsets.value[0][1]));

  // Logits and heatmaps resize by value and flip by position only.
  const ModelOutput logits{torch::arange(45.0).view({1, 1, 5, 9}), OutputKind::kLogits};
  EXPECT_TRUE(torch::equal(flip_output(logits), logits.value.flip({3})));
  EXPECT_TRUE(
      torch::allclose(resize_output(logits, 9, 17, true), torch::upsample_bilinear2d(logits.value, {9, 17}, true)));
  EXPECT_EQ(output_name::msc(0.75), "msc/0.75");
}

int64_t count(const std::vector<torch::Tensor>& params) {
  int64_t n = 0;
  for (const auto& p : params) n += p.numel();
  return n;
}

int64_t count_prefix(DeepLabImpl& model, const std::vector<std::string>& prefixes) {
  int64_t n = 0;
  for (const auto& p : model.named_parameters()) {
    for (const auto& prefix : prefixes) {
      if (p.key().rfind(prefix, 0) == 0) n += p.value().numel();
    }
  }
  return n;
}

TEST(HeadParameters, VggHeadIsFc8AloneOthersTheWholeHead) {
  ModelConfig c;
  c.num_classes = 5;
  c.backbone.name = "vgg16";
  c.backbone.output_stride = 8;
  c.arch = "deeplabv1";  // Caffe prototxt: lr_mult 10 on fc8 only
  DeepLab v1 = build_model(c);
  EXPECT_EQ(count(v1->head_parameters()), count_prefix(*v1, {"classifier.fc8."}));
  EXPECT_EQ(v1->imagenet_fc_layers().size(), 1u);
  c.arch = "deeplabv2";  // four branches, each fc6 fc7 fc8
  DeepLab v2 = build_model(c);
  EXPECT_EQ(count(v2->head_parameters()), count_prefix(*v2, {"classifier.branch0.6.", "classifier.branch1.6.",
                                                             "classifier.branch2.6.", "classifier.branch3.6."}));
  EXPECT_EQ(v2->imagenet_fc_layers().size(), 4u);

  c.backbone.name = "mobilenet_v3_small";  // no ImageNet fc layers: the whole head is new
  DeepLab v2_mobile = build_model(c);
  EXPECT_EQ(count(v2_mobile->head_parameters()), count_prefix(*v2_mobile, {"classifier."}));
  EXPECT_TRUE(v2_mobile->imagenet_fc_layers().empty());
  c.arch = "deeplabv3";
  c.aux_loss = true;
  DeepLab v3 = build_model(c);
  EXPECT_EQ(count(v3->head_parameters()), count_prefix(*v3, {"classifier.", "aux_classifier."}));
}

// DeepLab v1/v2's classifiers start as the Caffe prototxts start them:
// weights N(0, 0.01), bias 0.
TEST(HeadInit, V1V2ClassifiersAreGaussianWithStd001) {
  ModelConfig c;
  c.num_classes = 21;
  c.backbone.name = "vgg16";
  c.backbone.output_stride = 8;
  for (const char* arch : {"deeplabv1", "deeplabv2"}) {
    c.arch = arch;
    DeepLab model = build_model(c);
    const auto params = model->named_parameters();
    const std::string weight = c.arch == "deeplabv1" ? "classifier.fc8.weight" : "classifier.branch2.6.weight";
    EXPECT_NEAR(params[weight].std().item<double>(), 0.01, 0.001) << weight;
    EXPECT_NEAR(params[weight].mean().item<double>(), 0.0, 0.001) << weight;
    EXPECT_EQ(params[weight.substr(0, weight.size() - 6) + "bias"].abs().max().item<double>(), 0.0);
  }
  c.arch = "deeplabv2";
  c.backbone.name = "resnet50";
  DeepLab resnet_v2 = build_model(c);
  EXPECT_NEAR(resnet_v2->named_parameters()["classifier.branch0.0.weight"].std().item<double>(), 0.01, 0.001);
}

}  // namespace
}  // namespace deeplab::models
