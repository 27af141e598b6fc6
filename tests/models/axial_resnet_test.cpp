// deeplab2's Axial-ResNet encoder family: every named instance weighs what
// deeplab2's own test constants say, features follow the output stride with
// the strides and widths of each kind, drop path follows its schedule, and
// the encoders train inside Panoptic-DeepLab (with the projection-only ASPP
// Axial-DeepLab's configs set).

#include "deeplab/models/backbones/axial_resnet.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "deeplab/models/factory.h"
#include "deeplab/models/heads/aspp.h"
#include "deeplab/models/layers/axial_block.h"
#include "deeplab/models/summary.h"

namespace deeplab::models {
namespace {

int64_t instance_parameters(const std::string& name, double layer_multiplier = 1.0) {
  AxialResNet net(axial_resnet_instance(name).layer_multiplier(layer_multiplier).output_stride(16));
  return count_parameters(*net);
}

// model/encoder/axial_resnet_instances_test.py: trainable weights without
// the classification head.
TEST(AxialResNet, EveryInstanceWeighsDeeplab2sConstant) {
  const std::vector<std::pair<std::string, int64_t>> expected = {
      {"resnet50_beta", 23631808},    {"axial_resnet_s", 11466912},        {"axial_resnet_l", 43714048},
      {"axial_deeplab_s", 11565856},  {"axial_deeplab_l", 43841920},       {"swidernet", 109014080},
      {"axial_swidernet", 136399392}, {"max_deeplab_s_backbone", 41343424}};
  for (const auto& [name, count] : expected) EXPECT_EQ(instance_parameters(name), count) << name;
}

// Axial-SWideRNet-(1, 1, 4.5): the layer multiplier scales res2..res5 and
// rounds down (4.5 x [3, 6, 3, 3] = [13, 27, 13, 13]); res1 keeps 3 units.
// (SWideRNet-(1, 1, 3), 333,245,504, also matches; left out for time.)
TEST(AxialResNet, LayerMultiplierScalesSWideRNetsAsDeeplab2) {
  EXPECT_EQ(instance_parameters("axial_swidernet", 4.5), 570346912);
}

TEST(AxialResNet, UnknownInstanceAndTypeAreNamed) {
  try {
    axial_resnet_instance("axial_resnet_xl");
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("axial_resnet_xl"), std::string::npos) << e.what();
  }
  EXPECT_THROW(AxialResNet(AxialResNetOptions().type("resnext")), std::exception);
  EXPECT_THROW(AxialResNet(AxialResNetOptions().drop_path_schedule("cosine")), std::exception);
}

void expect_features(AxialResNet& net, int64_t height, int64_t width,
                     const std::vector<std::tuple<std::string, int64_t, int64_t>>& expected) {
  net->eval();
  const Features features = net->forward(torch::randn({1, 3, height, width}));
  ASSERT_EQ(features.size(), expected.size());
  for (const auto& [name, stride, channels] : expected) {
    const FeatureSpec spec = net->spec(name);
    EXPECT_EQ(spec.stride, stride) << name;
    EXPECT_EQ(spec.channels, channels) << name;
    const torch::Tensor& f = features.at(name);
    EXPECT_EQ(f.sizes(),
              (std::vector<int64_t>{1, channels, (height + stride - 1) / stride, (width + stride - 1) / stride}))
        << name;
    EXPECT_GE(f.min().item<double>(), 0.0) << name << ": features are the activated stage outputs";
  }
}

TEST(AxialResNet, FeaturesFollowTheOutputStride) {
  torch::manual_seed(0);
  AxialResNet resnet(AxialResNetOptions().width_multiplier(0.125).output_stride(16));
  // Stage k ends on 4 x 2^(k-1) x 32 x 0.125 channels.
  expect_features(resnet, 64, 48,
                  {{"res1", 2, 64}, {"res2", 4, 32}, {"res3", 8, 64}, {"res4", 16, 128}, {"res5", 16, 256}});
  // Inception stem: res1 is its 128-wide output.
  AxialResNet beta(axial_resnet_instance("axial_deeplab_s").width_multiplier(0.125).output_stride(8));
  expect_features(beta, 40, 32,
                  {{"res1", 2, 128}, {"res2", 4, 32}, {"res3", 8, 64}, {"res4", 8, 128}, {"res5", 8, 256}});
}

// A SWideRNet has a fifth stage: res1 at stride 2 of basic units, 4 x 32 wide.
TEST(AxialResNet, SWideRNetHasAStrideTwoStageOfBasicUnits) {
  torch::manual_seed(1);
  AxialResNet net(axial_resnet_instance("axial_swidernet")
                      .width_multiplier(0.0625)
                      .stem_width_multiplier(0.25)
                      .layer_multiplier(0.34)
                      .output_stride(16));
  // Widths: res1 4 x round(32 x 0.25), then 4 x round(2^(k-1) x 32 x 0.0625).
  expect_features(net, 48, 64,
                  {{"res1", 2, 32}, {"res2", 4, 16}, {"res3", 8, 32}, {"res4", 16, 64}, {"res5", 16, 128}});
  // layer_mult 0.34 rounds [3, 6, 3, 3] down to [1, 2, 1, 1]; res1 keeps 3.
  const auto units = [&](const std::string& stage) { return net->named_children()[stage]->children().size(); };
  EXPECT_EQ(units("stage1"), 3u);
  EXPECT_EQ(units("stage2"), 1u);
  EXPECT_EQ(units("stage3"), 2u);
  EXPECT_EQ(units("stage5"), 1u);
}

AxialBlockImpl& unit(AxialResNet& net, const std::string& path) {
  return *net->named_modules()[path]->as<AxialBlockImpl>();
}

// Past the output stride a stage is unstrided and its convs dilate: the first
// unit's first conv at the previous rate, its second conv (basic units) and
// the later units at the new one, as deeplab2's BlockGroup sets them.
TEST(AxialResNet, ConvStagesPastTheOutputStrideDilate) {
  AxialResNet net(
      axial_resnet_instance("swidernet").width_multiplier(0.0625).stem_width_multiplier(0.25).output_stride(8));
  const std::vector<std::tuple<std::string, int64_t, int64_t, int64_t>> expected = {
      // unit, stride, dilation, second dilation
      {"stage3.0", 2, 1, 1},
      {"stage4.0", 1, 1, 2},
      {"stage4.1", 1, 2, 2},
      {"stage5.0", 1, 2, 4},
      {"stage5.1", 1, 4, 4}};
  for (const auto& [path, stride, dilation, second] : expected) {
    const AxialBlockOptions& o = unit(net, path).options();
    EXPECT_EQ(o.stride(), stride) << path;
    EXPECT_EQ(o.dilation(), dilation) << path;
    EXPECT_EQ(o.second_dilation(), second) << path;
  }
  EXPECT_TRUE(unit(net, "stage4.1").options().basic());
  // res5 (stride 32 in the plain network) is made of [f, 2f, 4f] bottlenecks.
  EXPECT_FALSE(unit(net, "stage5.1").options().basic());
  EXPECT_EQ(unit(net, "stage5.1").options().middle_expansion(), 2);
}

// deeplab2's drop-path keep probability by ResNet stride: linear from stage 0
// (1.0) to the last (keep), and 1.0 below drop_path_beyond_stride (4 for
// SWideRNets, 16 for ResNets); constant: keep everywhere beyond it.
TEST(AxialResNet, DropPathFollowsTheScheduleByStride) {
  const auto keep_of = [](const std::string& instance, const std::string& schedule, const std::string& path) {
    AxialResNet net(axial_resnet_instance(instance)
                        .width_multiplier(0.25)
                        .stem_width_multiplier(0.25)
                        .drop_path_keep(0.6)
                        .drop_path_schedule(schedule));
    return unit(net, path).options().drop_path_keep();
  };
  // res2's first unit reads the stride-2 input, the later ones stride 4.
  EXPECT_DOUBLE_EQ(keep_of("axial_swidernet", "linear", "stage1.0"), 1.0);
  EXPECT_DOUBLE_EQ(keep_of("axial_swidernet", "linear", "stage2.0"), 1.0);
  EXPECT_DOUBLE_EQ(keep_of("axial_swidernet", "linear", "stage2.1"), 1.0 - 0.4 * 1 / 4);
  EXPECT_DOUBLE_EQ(keep_of("axial_swidernet", "linear", "stage3.1"), 1.0 - 0.4 * 2 / 4);
  EXPECT_DOUBLE_EQ(keep_of("axial_swidernet", "linear", "stage5.1"), 0.6);
  EXPECT_DOUBLE_EQ(keep_of("axial_swidernet", "constant", "stage2.0"), 1.0);
  EXPECT_DOUBLE_EQ(keep_of("axial_swidernet", "constant", "stage2.1"), 0.6);
  EXPECT_DOUBLE_EQ(keep_of("axial_deeplab_s", "linear", "stage3.1"), 1.0);  // stride 8 < 16
  EXPECT_DOUBLE_EQ(keep_of("axial_deeplab_s", "linear", "stage4.1"), 1.0 - 0.4 * 3 / 4);
}

// Axial units from stride 16 on in Axial-SWideRNet and MaX-DeepLab-S's
// backbone; from stride 2 in Axial-DeepLab.
TEST(AxialResNet, AttentionStartsAtItsStride) {
  AxialResNet swide(axial_resnet_instance("axial_swidernet").width_multiplier(0.0625).stem_width_multiplier(0.25));
  EXPECT_FALSE(unit(swide, "stage4.0").options().axial());  // input stride 8
  EXPECT_TRUE(unit(swide, "stage4.1").options().axial());
  EXPECT_EQ(unit(swide, "stage4.1").options().key_expansion(), 2);
  EXPECT_EQ(unit(swide, "stage4.1").options().value_expansion(), 4);
  AxialResNet deeplab(axial_resnet_instance("axial_deeplab_s").width_multiplier(0.125));
  EXPECT_TRUE(unit(deeplab, "stage2.0").options().axial());
}

// Axial-DeepLab's Panoptic-DeepLab: an Axial-SWideRNet under the ASPP that is
// one 1x1 projection; it trains end to end.
TEST(AxialResNet, TrainsInsidePanopticDeepLabWithTheProjectionOnlyAspp) {
  torch::manual_seed(5);
  ModelConfig m;
  m.arch = "panoptic_deeplab";
  m.num_classes = 4;
  m.backbone.name = "axial_swidernet";
  m.backbone.output_stride = 16;
  m.backbone.width_mult = 0.0625;
  m.backbone.stem_width_mult = 0.25;
  m.backbone.layer_mult = 0.34;
  m.backbone.drop_path_keep = 0.8;
  m.head.channels = 32;
  m.head.aspp_projection_only = true;
  DeepLab model = build_model(m);
  model->train();
  const ModelOutputs outputs = model->forward_outputs(torch::randn({2, 3, 48, 40}));
  EXPECT_EQ(outputs.at("semantic").value.sizes(), (std::vector<int64_t>{2, 4, 48, 40}));
  EXPECT_EQ(outputs.at("offset").value.sizes(), (std::vector<int64_t>{2, 2, 48, 40}));
  outputs.at("semantic").value.sum().backward();
  // The gradient reaches the stem through every attention unit.
  const torch::Tensor stem_grad = model->backbone().named_parameters()["stem.0.weight"].grad();
  ASSERT_TRUE(stem_grad.defined());
  EXPECT_GT(stem_grad.abs().sum().item<double>(), 0);
  // The semantic ASPP is the projection alone: 128 -> 32 conv, BN.
  int64_t aspp_parameters = -1;
  for (const auto& item : model->named_modules()) {
    if (item.key().size() >= 5 && item.key().substr(item.key().size() - 5) == ".aspp") {
      aspp_parameters = count_parameters(*item.value());
      break;
    }
  }
  EXPECT_EQ(aspp_parameters, 128 * 32 + 2 * 32);
}

TEST(Aspp, ProjectionOnlyIsOneConvBnRelu) {
  torch::manual_seed(6);
  Aspp aspp(AsppOptions(8, {6, 12, 18}).channels(4).projection_only(true));
  aspp->eval();
  EXPECT_EQ(count_parameters(*aspp), 8 * 4 + 2 * 4);
  const torch::Tensor x = torch::randn({2, 8, 5, 6});
  auto params = aspp->named_parameters();
  auto buffers = aspp->named_buffers();
  const torch::Tensor conv = torch::conv2d(x, params["project.0.weight"]);
  const torch::Tensor bn =
      torch::batch_norm(conv, params["project.1.weight"], params["project.1.bias"], buffers["project.1.running_mean"],
                        buffers["project.1.running_var"], false, 0.1, 1e-5, false);
  EXPECT_TRUE(torch::allclose(aspp->forward(x), torch::relu(bn)));
}

TEST(Aspp, ProjectionOnlyIsRefusedWhereNoSuchAsppExists) {
  ModelConfig m;
  m.arch = "deeplabv3";
  m.backbone.name = "mobilenet_v3_small";
  m.head.aspp_projection_only = true;
  try {
    build_model(m);
    FAIL() << "expected a ConfigError";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("model.head.aspp_projection_only"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace deeplab::models
