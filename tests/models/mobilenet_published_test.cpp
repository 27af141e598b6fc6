// TF DeepLab's published MobileNet-V2 DeepLabv3 (model_zoo.md: "MobileNet-v2
// based models do not employ ASPP and decoder"): the feature extractor stops
// at layer_18 (320 channels, no 1280 conv) and the ASPP keeps only its 1x1
// and image-pooling branches.  configs/voc/deeplabv3_mobilenet_v2_os16_voc.yaml
// builds exactly that; the defaults keep torchvision's 1280-channel layout.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <stdexcept>
#include <string>

#include "deeplab/core/config_io.h"
#include "deeplab/core/error.h"
#include "deeplab/models/factory.h"
#include "tests/support/test_support.h"

namespace deeplab::models {
namespace {

int dilated_convs(torch::nn::Module& module) {
  int n = 0;
  for (const auto& m : module.modules(/*include_self=*/false)) {
    const auto* conv = dynamic_cast<torch::nn::Conv2dImpl*>(m.get());
    if (conv && (conv->options.dilation()->at(0) > 1 || conv->options.dilation()->at(1) > 1)) ++n;
  }
  return n;
}

torch::nn::Module& head_of(DeepLab& model) {
  for (const auto& child : model->named_children()) {
    if (child.key() == "classifier") return *child.value();  // torchvision's name for the head
  }
  throw std::runtime_error("no head module");
}

// The [out, in] shape of the ASPP's projection (its input is branches x width).
std::vector<int64_t> aspp_projection_shape(DeepLab& model) {
  for (const auto& p : model->named_parameters()) {
    if (p.key().find("project.0.weight") != std::string::npos) return p.value().sizes().vec();
  }
  return {};
}

ModelConfig config_of(const std::string& arch, const std::string& backbone, int output_stride = 16) {
  ModelConfig c;
  c.arch = arch;
  c.num_classes = 21;
  c.backbone.name = backbone;
  c.backbone.output_stride = output_stride;
  return c;
}

TEST(MobileNetV2Published, ShippedConfigIs320ChannelsIntoAnAsppWithoutAtrousBranches) {
  const std::string config = testing::source_dir() + "/configs/voc/deeplabv3_mobilenet_v2_os16_voc.yaml";
  ModelConfig c = core::load_config_section<ModelConfig>(config, "model");
  c.backbone.pretrained.clear();  // the ImageNet file is not here; the architecture is what is tested
  EXPECT_FALSE(c.backbone.final_conv);
  EXPECT_FALSE(c.head.atrous);
  DeepLab model = build_model(c);
  EXPECT_EQ(model->backbone().spec("out").channels, 320);
  EXPECT_EQ(aspp_projection_shape(model), (std::vector<int64_t>{256, 512, 1, 1})) << "1x1 + image pooling";
  EXPECT_EQ(dilated_convs(head_of(model)), 0);
  model->eval();
  torch::NoGradGuard no_grad;
  EXPECT_EQ(model->forward(torch::randn({1, 3, 65, 97})).sizes(), (std::vector<int64_t>{1, 21, 65, 97}));
}

TEST(MobileNetV2Published, DefaultsKeepTorchvisionsLayoutAndTheAtrousBranches) {
  ModelConfig c = config_of("deeplabv3", "mobilenet_v2");
  DeepLab model = build_model(c);
  EXPECT_EQ(model->backbone().spec("out").channels, 1280);
  EXPECT_EQ(aspp_projection_shape(model), (std::vector<int64_t>{256, 5 * 256, 1, 1}));
  EXPECT_EQ(dilated_convs(head_of(model)), 3);

  c.backbone.name = "mobilenet_v3_large";
  c.backbone.final_conv = false;
  EXPECT_EQ(build_model(c)->backbone().spec("out").channels, 160) << "V3-Large's last block";
}

TEST(MobileNetV2Published, NoAtrousBranchesIsAnErrorForDeepLabV2) {
  ModelConfig c = config_of("deeplabv2", "resnet50", 8);
  c.head.atrous = false;
  try {
    build_model(c);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("model.head.atrous"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace deeplab::models
