// Panoptic-DeepLab as deeplab2 publishes it: the named outputs and their
// kinds, the decoder widths, ASPP rates at OS32, offsets rescaled to the input
// size, v3+ keeping its parameter names through the shared decoder, and the
// norm hyper-parameters from config.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <thread>

#include "deeplab/models/factory.h"
#include "deeplab/models/layers/norm.h"

namespace deeplab::models {
namespace {

ModelConfig panoptic_config(const std::string& backbone, int os) {
  ModelConfig c;
  c.arch = "panoptic_deeplab";
  c.num_classes = 19;
  c.backbone.name = backbone;
  c.backbone.output_stride = os;
  c.align_corners = true;
  return c;
}

std::map<std::string, std::vector<int64_t>> shapes_of(torch::nn::Module& model) {
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& p : model.named_parameters()) shapes[p.key()] = p.value().sizes().vec();
  return shapes;
}

TEST(PanopticDeepLab, OutputsSemanticCenterAndOffsetAtInputSize) {
  DeepLab model = build_model(panoptic_config("resnet50", 32));
  model->eval();
  torch::NoGradGuard no_grad;
  const auto outputs = model->forward_outputs(torch::randn({2, 3, 65, 129}));
  ASSERT_EQ(outputs.size(), 3u);
  EXPECT_EQ(outputs.at("semantic").value.sizes(), (std::vector<int64_t>{2, 19, 65, 129}));
  EXPECT_EQ(outputs.at("center").value.sizes(), (std::vector<int64_t>{2, 1, 65, 129}));
  EXPECT_EQ(outputs.at("offset").value.sizes(), (std::vector<int64_t>{2, 2, 65, 129}));
  EXPECT_EQ(outputs.at("semantic").kind, OutputKind::kLogits);
  EXPECT_EQ(outputs.at("center").kind, OutputKind::kHeatmap);
  EXPECT_EQ(outputs.at("offset").kind, OutputKind::kOffsets);
}

// deeplab2's widths: ASPP 256 on res5, projections 64/32 (semantic) and
// 32/16 (instance) of res3 (512 ch) and res2 (256 ch), 5x5 separable fuse to
// 256 / 128, heads 5x5 separable 256 -> classes, 32 -> 1 and 32 -> 2.
TEST(PanopticDeepLab, DecoderWidthsAreThePapers) {
  DeepLab model = build_model(panoptic_config("resnet50", 32));
  const auto shapes = shapes_of(*model);
  const std::string s = "classifier.semantic_decoder.", i = "classifier.instance_decoder.";
  const std::map<std::string, std::vector<int64_t>> expected = {
      {s + "aspp.project.0.weight", {256, 5 * 256, 1, 1}},
      {s + "project_s8.0.weight", {64, 512, 1, 1}},
      {s + "fuse_s8.0.depthwise.weight", {256 + 64, 1, 5, 5}},
      {s + "fuse_s8.0.pointwise.weight", {256, 256 + 64, 1, 1}},
      {s + "project_s4.0.weight", {32, 256, 1, 1}},
      {s + "fuse_s4.0.pointwise.weight", {256, 256 + 32, 1, 1}},
      {s + "semantic_head.0.depthwise.weight", {256, 1, 5, 5}},
      {s + "semantic_head.1.weight", {19, 256, 1, 1}},
      {i + "aspp.project.0.weight", {256, 5 * 256, 1, 1}},
      {i + "project_s8.0.weight", {32, 512, 1, 1}},
      {i + "fuse_s8.0.pointwise.weight", {128, 256 + 32, 1, 1}},
      {i + "project_s4.0.weight", {16, 256, 1, 1}},
      {i + "fuse_s4.0.pointwise.weight", {128, 128 + 16, 1, 1}},
      {i + "center_head.0.pointwise.weight", {32, 128, 1, 1}},
      {i + "center_head.1.weight", {1, 32, 1, 1}},
      {i + "offset_head.1.weight", {2, 32, 1, 1}},
  };
  for (const auto& [name, shape] : expected) {
    ASSERT_TRUE(shapes.count(name)) << name;
    EXPECT_EQ(shapes.at(name), shape) << name;
  }
  EXPECT_FALSE(shapes.count(s + "fuse_s8.1.depthwise.weight")) << "one fuse conv per level";
}

TEST(PanopticDeepLab, AsppRatesAre369AtOutputStride32) {
  ModelConfig c = panoptic_config("resnet50", 32);
  EXPECT_EQ(resolve_atrous_rates(c), (std::vector<int64_t>{3, 6, 9}));
  DeepLab model = build_model(c);
  const auto shapes = shapes_of(*model);
  for (const auto& p : model->named_modules()) {
    if (p.key() != "classifier.instance_decoder.aspp.convs.3.0") continue;
    auto* conv = p.value()->as<torch::nn::Conv2d>();
    ASSERT_NE(conv, nullptr);
    EXPECT_EQ(conv->options.dilation()->at(0), 9);
    return;
  }
  FAIL() << "no third atrous branch in the instance ASPP";
}

// The shared multi-level decoder keeps v3+'s names, so v3+ weights trained
// before it existed still load by key.
TEST(PanopticDeepLab, DeepLabV3PlusKeepsItsParameterNames) {
  ModelConfig c;
  c.arch = "deeplabv3plus";
  c.num_classes = 21;
  c.backbone.name = "resnet50";
  DeepLab model = build_model(c);
  const auto shapes = shapes_of(*model);
  for (const char* name :
       {"classifier.aspp.convs.0.0.weight", "classifier.aspp.project.0.weight", "classifier.low_level_project.0.weight",
        "classifier.low_level_project.1.running_mean", "classifier.fuse.0.0.weight", "classifier.fuse.1.1.weight",
        "classifier.classifier.weight", "classifier.classifier.bias"}) {
    EXPECT_TRUE(shapes.count(name) || model->named_buffers().contains(name)) << name;
  }
  EXPECT_EQ(shapes.at("classifier.low_level_project.0.weight"), (std::vector<int64_t>{48, 256, 1, 1}));
  EXPECT_EQ(shapes.at("classifier.fuse.0.0.weight"), (std::vector<int64_t>{256, 256 + 48, 3, 3}));
  EXPECT_EQ(shapes.at("classifier.classifier.weight"), (std::vector<int64_t>{21, 256, 1, 1}));
}

// An offset field the head ends on at stride 4 comes out at input size with
// its values multiplied by the size ratio (align corners: (H-1)/(h-1)).
TEST(PanopticDeepLab, OffsetsAreRescaledWithTheUpsampling) {
  const ModelOutput offsets{torch::ones({1, 2, 17, 33}), OutputKind::kOffsets};
  const auto like = torch::zeros({1, 3, 65, 129});
  const auto up = resize_output_like(offsets, like, /*align_corners=*/true);
  EXPECT_TRUE(torch::allclose(up[0][0], torch::full({65, 129}, 4.0)));
  EXPECT_TRUE(torch::allclose(up[0][1], torch::full({65, 129}, 4.0)));
  const ModelOutput heatmap{torch::ones({1, 1, 17, 33}), OutputKind::kHeatmap};
  EXPECT_TRUE(torch::allclose(resize_output_like(heatmap, like, true), torch::ones({1, 1, 65, 129})));
}

TEST(PanopticDeepLab, NormHyperParametersFromConfig) {
  ModelConfig c = panoptic_config("mobilenet_v2", 16);
  c.bn_eps = 1e-3;
  c.bn_momentum = 0.01;
  DeepLab model = build_model(c);
  int norms = 0;
  for (const auto& m : model->modules()) {
    auto* norm = dynamic_cast<Norm2dImpl*>(m.get());
    if (!norm) continue;
    ++norms;
    EXPECT_DOUBLE_EQ(norm->options.eps(), 1e-3);
    EXPECT_DOUBLE_EQ(*norm->options.momentum(), 0.01);
  }
  EXPECT_GT(norms, 50);
}

// The forward time beside post-processing's (tests/postprocess/panoptic_test.cpp
// PanopticBenchmark): deeplab2's Cityscapes model (ResNet-50, OS32) on one
// 1025 x 2049 image, eval mode, at 1 thread and at all cores.  Run with
//   build/tests/models/test_models --gtest_also_run_disabled_tests --gtest_filter='PanopticBenchmark.*'
TEST(PanopticBenchmark, DISABLED_ForwardResNet50Os32At1025x2049) {
  DeepLab model = build_model(panoptic_config("resnet50", 32));
  model->eval();
  torch::NoGradGuard no_grad;
  const auto image = torch::randn({1, 3, 1025, 2049});
  const int before = at::get_num_threads();
  const int all_cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  for (const int threads : {1, all_cores}) {
    at::set_num_threads(threads);
    std::vector<double> seconds;
    for (int run = 0; run < 3; ++run) {
      const auto start = std::chrono::steady_clock::now();
      const auto outputs = model->forward_outputs(image);
      seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      ASSERT_EQ(outputs.at("offset").value.size(3), 2049);
    }
    std::sort(seconds.begin(), seconds.end());
    std::printf("Panoptic-DeepLab R50 OS32 forward 1x3x1025x2049, %d thread(s): min %.2f s, median %.2f s\n", threads,
                seconds[0], seconds[1]);
  }
  at::set_num_threads(before);
}

}  // namespace
}  // namespace deeplab::models
