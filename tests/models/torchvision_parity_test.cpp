// Parity with torchvision 0.14: the same seeded weights (a real torch.save
// .pth written by scripts/fixtures/torchvision_parity.py) loaded by name give
// the same outputs on a 1x3x97x129 input, within 1e-4 x max(1, max |expected|).

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "deeplab/models/backbones/convnext.h"
#include "deeplab/models/backbones/mobilenet.h"
#include "deeplab/models/backbones/resnet.h"
#include "deeplab/models/backbones/vgg.h"
#include "deeplab/models/factory.h"
#include "deeplab/weights/pretrained_import.h"
#include "deeplab/weights/pth_reader.h"
#include "deeplab/weights/state_dict.h"
#include "tests/support/test_support.h"

namespace deeplab::models {
namespace {

using weights::LoadOptions;
using weights::PrefixRule;

struct Fixture {
  std::string weights;
  torch::Tensor input, out, aux;
};

Fixture fixture(const std::string& name) {
  const std::string dir = testing::python_fixture_dir("torchvision_parity.py");
  if (dir.empty()) return {};
  Fixture f;
  f.weights = dir + "/" + name + ".pth";
  for (const auto& [key, tensor] : weights::read_state_dict(dir + "/" + name + ".io.pt")) {
    if (key == "input") f.input = tensor;
    if (key == "out") f.out = tensor;
    if (key == "aux") f.aux = tensor;
  }
  return f;
}

// max |a - b| / max(1, max |b|); the acceptance bound is 1e-4.
double relative_error(const torch::Tensor& actual, const torch::Tensor& expected) {
  EXPECT_EQ(actual.sizes(), expected.sizes());
  const double scale = std::max(1.0, expected.abs().max().item<double>());
  return (actual - expected).abs().max().item<double>() / scale;
}

ModelConfig torchvision_deeplabv3(const std::string& backbone, int os, bool aux) {
  ModelConfig c;
  c.arch = "deeplabv3";
  c.num_classes = 21;
  c.backbone.name = backbone;
  c.backbone.output_stride = os;
  c.backbone.dilation_rule = "torchvision";
  c.head.style = "torchvision";
  c.aux_loss = aux;
  return c;
}

void expect_segmentation_parity(const std::string& name, const ModelConfig& config) {
  const Fixture f = fixture(name);
  if (f.weights.empty()) GTEST_SKIP() << "the oracle Python with torchvision not available";
  DeepLab model = build_model(config);
  weights::load_state_dict_file(*model, f.weights);  // strict: every key, every shape
  model->eval();
  torch::NoGradGuard no_grad;
  const auto outputs = model->forward_outputs(f.input, /*training_outputs=*/true);
  EXPECT_LE(relative_error(outputs.at("semantic").value, f.out), 1e-4);
  if (f.aux.defined()) {
    EXPECT_LE(relative_error(outputs.at("aux").value, f.aux), 1e-4);
  }
  // Negative control: one perturbed weight tensor must break the match.
  model->named_parameters()["classifier.4.weight"].add_(0.1);
  EXPECT_GT(relative_error(model->forward(f.input), f.out), 1e-4);
}

TEST(TorchvisionParity, DeepLabV3ResNet50) {
  expect_segmentation_parity("deeplabv3_resnet50", torchvision_deeplabv3("resnet50", 8, false));
}

TEST(TorchvisionParity, DeepLabV3ResNet101WithAux) {
  expect_segmentation_parity("deeplabv3_resnet101_aux", torchvision_deeplabv3("resnet101", 8, true));
}

TEST(TorchvisionParity, DeepLabV3MobileNetV3LargeWithAux) {
  expect_segmentation_parity("deeplabv3_mobilenet_v3_large_aux", torchvision_deeplabv3("mobilenet_v3_large", 16, true));
}

void expect_backbone_parity(const std::string& name, BackboneImpl& backbone, LoadOptions options) {
  const Fixture f = fixture(name);
  if (f.weights.empty()) GTEST_SKIP() << "the oracle Python with torchvision not available";
  options.source = f.weights;
  const auto report = weights::load_state_dict_file(backbone, f.weights, options);
  EXPECT_TRUE(report.missing.empty()) << report.summary();
  backbone.eval();
  torch::NoGradGuard no_grad;
  auto out = backbone.forward(f.input).at(backbone.out_name());
  EXPECT_LE(relative_error(out, f.out), 1e-4);
  // Negative control: the stem conv's first output channel (a change of all
  // channels alike would vanish in ConvNeXt's channel LayerNorm).
  backbone.parameters().front()[0].add_(0.1);
  EXPECT_GT(relative_error(backbone.forward(f.input).at(backbone.out_name()), f.out), 1e-4);
}

LoadOptions torchvision_features() {
  LoadOptions options;
  options.rename = {{"features.", ""}};
  options.ignore = {"classifier.", "fc."};
  return options;
}

TEST(TorchvisionParity, ResNet50Features) {
  ResNet resnet(ResNetOptions(50));
  expect_backbone_parity("resnet50_features", *resnet, torchvision_features());
}

TEST(TorchvisionParity, MobileNetV2Features) {
  MobileNet net(MobileNetOptions("v2"));
  expect_backbone_parity("mobilenet_v2_features", *net, torchvision_features());
}

TEST(TorchvisionParity, MobileNetV3LargeFeatures) {
  MobileNet net(MobileNetOptions("v3_large"));
  expect_backbone_parity("mobilenet_v3_large_features", *net, torchvision_features());
}

TEST(TorchvisionParity, Vgg16Features) {
  Vgg vgg(VggOptions().layout("torchvision").output_stride(32));
  expect_backbone_parity("vgg16_features", *vgg, torchvision_features());
}

// deeplab's res5 is GELU of torchvision's features (random LayerNorm affines
// and layer scales of order 1, so every block shows in the output).
TEST(TorchvisionParity, ConvNeXtTinyFeatures) {
  ConvNeXt net(ConvNeXtOptions("tiny").pad_for_downstream(false));  // torchvision does not pad
  expect_backbone_parity("convnext_tiny_features", *net, torchvision_features());
}

// model.backbone.pretrained with torchvision's ConvNeXt file: recognised as
// ConvNeXt, every backbone weight filled, the head left as it is.
TEST(TorchvisionParity, ConvNeXtImageNetFileFillsTheBackboneOfKMaXDeepLab) {
  const Fixture f = fixture("convnext_tiny_features");
  if (f.weights.empty()) GTEST_SKIP() << "the oracle Python with torchvision not available";
  ModelConfig c;
  c.arch = "kmax_deeplab";
  c.num_classes = 19;
  c.backbone.name = "convnext_tiny";
  c.backbone.output_stride = 32;
  c.kmax.decoder_dims = {64, 32, 16, 8};
  c.kmax.decoder_blocks = {1, 1, 1, 1};
  c.kmax.slots = 8;
  DeepLab model = build_model(c);
  const auto report = weights::import_pretrained(*model, f.weights, c.backbone.name);
  for (const auto& key : report.missing) EXPECT_NE(key.rfind("backbone.", 0), 0u) << key;
  EXPECT_TRUE(report.unexpected.empty()) << report.summary();
  EXPECT_EQ(report.loaded.size(), 178u);  // 27,818,592 weights in 178 tensors
  // A ConvNeXt file for another family is refused by name.
  c.backbone.name = "mobilenet_v2";
  c.arch = "deeplabv3";
  DeepLab other = build_model(c);
  EXPECT_THROW(weights::import_pretrained(*other, f.weights, "mobilenet_v2"), std::exception);
}

}  // namespace
}  // namespace deeplab::models
