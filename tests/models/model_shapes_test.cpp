// Every arch x backbone at output stride 8 and 16: logits have the input's
// size for odd inputs, features have the strides feature_specs() promises,
// and a backward pass gives finite gradients to every trainable parameter.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <tuple>

#include "deeplab/core/error.h"
#include "deeplab/models/factory.h"
#include "deeplab/models/summary.h"

namespace deeplab::models {
namespace {

const char* kBackbones[] = {"resnet50", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small",
                            "vgg16",    "xception65",   "xception71"};
const char* kArchs[] = {"deeplabv1", "deeplabv2", "deeplabv3", "deeplabv3plus", "panoptic_deeplab"};

ModelConfig config_for(const std::string& arch, const std::string& backbone, int os) {
  ModelConfig c;
  c.arch = arch;
  c.num_classes = 5;
  c.backbone.name = backbone;
  c.backbone.output_stride = os;
  c.backbone.dilation_rule = "paper";
  c.aux_loss = arch == "deeplabv3";
  return c;
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

class ModelShapes : public ::testing::TestWithParam<std::tuple<std::string, std::string, int>> {};

TEST_P(ModelShapes, LogitsMatchInputAndFeaturesMatchSpecs) {
  const auto& [arch, backbone, os] = GetParam();
  torch::manual_seed(0);
  DeepLab model = build_model(config_for(arch, backbone, os));
  model->eval();
  torch::NoGradGuard no_grad;
  const auto images = torch::randn({1, 3, 65, 97});
  const auto logits = model->forward(images);
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{1, 5, 65, 97}));
  EXPECT_TRUE(torch::isfinite(logits).all().item<bool>());

  const Features features = model->backbone().forward(images);
  for (const auto& spec : model->backbone().feature_specs()) {
    SCOPED_TRACE(spec.name);
    ASSERT_TRUE(features.count(spec.name));
    const auto& f = features.at(spec.name);
    EXPECT_EQ(f.size(1), spec.channels);
    // Every stride-2 layer here pads so that size = ceil(size / 2).
    EXPECT_EQ(f.size(2), ceil_div(65, spec.stride));
    EXPECT_EQ(f.size(3), ceil_div(97, spec.stride));
  }
  EXPECT_EQ(model->backbone().spec("out").stride, os);
  // Every backbone offers the stride-4 and stride-8 taps decoders read.
  EXPECT_EQ(model->backbone().spec(model->backbone().low_level_name()).stride, 4);
  EXPECT_EQ(model->backbone().spec(model->backbone().mid_level_name()).stride, 8);
  for (const auto& [name, output] : model->forward_outputs(images)) {
    EXPECT_EQ(output.value.size(2), 65) << name;
    EXPECT_EQ(output.value.size(3), 97) << name;
  }
}

std::vector<std::tuple<std::string, std::string, int>> all_combinations() {
  std::vector<std::tuple<std::string, std::string, int>> out;
  for (const char* arch : kArchs) {
    for (const char* backbone : kBackbones) {
      for (int os : {8, 16}) out.emplace_back(arch, backbone, os);
    }
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(AllArchsAndBackbones, ModelShapes, ::testing::ValuesIn(all_combinations()),
                         [](const auto& info) {
                           return std::get<0>(info.param) + "_" + std::get<1>(info.param) + "_os" +
                                  std::to_string(std::get<2>(info.param));
                         });

// deeplab2's own constant (model/pixel_encoder/axial_resnet_test.py): its
// ResNet-50 pixel encoder, the classification head left out, has 23,508,032
// trainable weights; ours, BN statistics (buffers) not counted, the same.
TEST(Deeplab2Constants, ResNet50EncoderParameters) {
  models::BackboneConfig config;
  config.name = "resnet50";
  EXPECT_EQ(models::count_parameters(*models::build_backbone(config)), 23508032);
}

// kMaX-DeepLab's ResNet-50 (deeplab2's "resnet"): no max-pool, layer1's
// first unit strided; the same 23,508,032 weights under torchvision's names,
// and the stem's output as a stride-2 feature for Cityscapes' stride-2 stage.
TEST(Deeplab2Constants, KMaXResNet50StridesLayer1InsteadOfPooling) {
  models::BackboneConfig pooled, strided;
  pooled.name = strided.name = "resnet50";
  pooled.output_stride = strided.output_stride = 32;
  strided.stem_pool = false;
  const auto a = models::build_backbone(pooled), b = models::build_backbone(strided);
  const auto names = [](const std::shared_ptr<models::BackboneImpl>& net) {
    std::vector<std::pair<std::string, std::vector<int64_t>>> out;
    for (const auto& p : net->named_parameters()) out.emplace_back(p.key(), p.value().sizes().vec());
    return out;
  };
  EXPECT_EQ(names(a), names(b));
  const std::vector<std::pair<std::string, int64_t>> expected = {
      {"stem", 2}, {"low_level", 4}, {"mid_level", 8}, {"aux", 16}, {"out", 32}};
  b->eval();
  const auto features = b->forward(torch::randn({1, 3, 64, 96}));
  for (const auto& [name, stride] : expected) {
    EXPECT_EQ(b->spec(name).stride, stride) << name;
    EXPECT_EQ(features.at(name).size(2), 64 / stride) << name;
    EXPECT_EQ(features.at(name).size(3), 96 / stride) << name;
  }
  EXPECT_EQ(b->spec("stem").channels, 64);
  EXPECT_EQ(a->feature_specs().size(), 4u) << "the pooled ResNet has no stem feature";
}

TEST(ModelBackward, EveryTrainableParameterGetsAFiniteGradient) {
  for (const char* backbone : {"resnet50", "mobilenet_v3_large", "xception65", "vgg16"}) {
    for (const char* arch : kArchs) {
      SCOPED_TRACE(std::string(arch) + "/" + backbone);
      torch::manual_seed(0);
      auto config = config_for(arch, backbone, 16);
      config.head.separable = std::string(arch) == "deeplabv3plus";
      DeepLab model = build_model(config);
      model->train();
      const auto outputs = model->forward_outputs(torch::randn({2, 3, 33, 41}));
      torch::Tensor loss = torch::zeros({});
      for (const auto& [name, output] : outputs) loss = loss + output.value.square().mean();
      loss.backward();
      for (const auto& p : model->named_parameters()) {
        ASSERT_TRUE(p.value().grad().defined()) << p.key();
        EXPECT_TRUE(torch::isfinite(p.value().grad()).all().item<bool>()) << p.key();
      }
    }
  }
}

TEST(ModelConfigErrors, InvalidCombinationsNameTheValue) {
  ModelConfig c = config_for("deeplabv3", "vgg16", 16);
  c.backbone.layout = "torchvision";
  try {
    build_model(c);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("output_stride 16"), std::string::npos) << e.what();
  }
  c = config_for("deeplabv3", "resnet50", 16);
  c.backbone.multi_grid = {1, 2};
  EXPECT_THROW(build_model(c), Error);
}

// DeepLab-LargeFOV (v1) ends VGG with pool5a (3x3 average pooling, stride 1);
// DeepLab v2's VGG prototxt feeds pool5 straight into the ASPP-L branches.
TEST(VggLargeFov, Pool5aIsV1sOnly) {
  const auto average_pools = [](const std::string& arch) {
    DeepLab model = build_model(config_for(arch, "vgg16", 8));
    int n = 0;
    for (const auto& m : model->backbone().modules(/*include_self=*/false)) {
      n += dynamic_cast<torch::nn::AvgPool2dImpl*>(m.get()) != nullptr;
    }
    return n;
  };
  EXPECT_EQ(average_pools("deeplabv1"), 1);
  EXPECT_EQ(average_pools("deeplabv2"), 0);
}

// Rates are stated for a reference stride and scaled to the model's: the v3
// default 6/12/18 at 16 is 3/6/9 at 32 (Panoptic-DeepLab) and 12/24/36 at 8;
// explicit rates keep the stride they were trained at when the model moves.
TEST(AsppRates, FollowTheOutputStride) {
  ModelConfig c;
  c.arch = "deeplabv3";
  for (const auto& [os, expected] :
       std::vector<std::pair<int, std::vector<int64_t>>>{{8, {12, 24, 36}}, {16, {6, 12, 18}}, {32, {3, 6, 9}}}) {
    c.backbone.output_stride = os;
    EXPECT_EQ(resolve_atrous_rates(c), expected) << "OS" << os;
  }
  c.backbone.output_stride = 16;
  c.head.atrous_rates = {4, 8, 12};
  EXPECT_EQ(resolve_atrous_rates(c), (std::vector<int64_t>{4, 8, 12}));
  EXPECT_EQ(resolve_atrous_rates(at_output_stride(c, 8)), (std::vector<int64_t>{8, 16, 24}));
  c.head.style = "torchvision";
  c.head.atrous_rates.clear();
  EXPECT_EQ(resolve_atrous_rates(at_output_stride(c, 8)), (std::vector<int64_t>{12, 24, 36}));
  c.arch = "deeplabv2";
  c.head.style = "paper";
  c.backbone.output_stride = 8;
  EXPECT_EQ(resolve_atrous_rates(c), (std::vector<int64_t>{6, 12, 18, 24}));
}

}  // namespace
}  // namespace deeplab::models
