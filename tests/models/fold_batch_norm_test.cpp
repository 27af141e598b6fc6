// BN folding: for every backbone (and every head that has norm layers) the
// folded model computes what the unfolded one does, to 1e-5 relative, with
// every norm layer folded; a folded layer refuses to train; folding a model
// in training mode is an error.

#include "deeplab/models/fold_batch_norm.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <tuple>

#include "deeplab/core/error.h"
#include "deeplab/models/factory.h"
#include "deeplab/models/layers/norm.h"

namespace deeplab::models {
namespace {

// Running statistics and affine parameters far from the identity, so a
// wrong pairing or a wrong formula shows up in the output.
void randomise_norms(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  for (const auto& module : model.modules()) {
    auto* norm = dynamic_cast<Norm2dImpl*>(module.get());
    if (!norm) continue;
    norm->running_mean.uniform_(-0.5, 0.5);
    norm->running_var.uniform_(0.5, 2.0);
    norm->weight.uniform_(0.5, 1.5);
    norm->bias.uniform_(-0.3, 0.3);
  }
}

int count_norms(torch::nn::Module& model) {
  int n = 0;
  for (const auto& module : model.modules()) n += dynamic_cast<Norm2dImpl*>(module.get()) != nullptr;
  return n;
}

double relative_error(const torch::Tensor& got, const torch::Tensor& want) {
  return ((got - want).abs().max() / want.abs().max()).item<double>();
}

using Case = std::tuple<std::string, std::string>;  // arch, backbone
class FoldBatchNorm : public ::testing::TestWithParam<Case> {};

TEST_P(FoldBatchNorm, FoldedModelEqualsUnfoldedAndFoldsEveryNorm) {
  const auto& [arch, backbone] = GetParam();
  ModelConfig c;
  c.arch = arch;
  c.num_classes = 7;
  c.backbone.name = backbone;
  c.backbone.output_stride = 16;
  c.backbone.deep_stem = backbone == "resnet50_deep_stem";
  if (c.backbone.deep_stem) c.backbone.name = "resnet50";
  c.head.style = arch == "deeplabv3" ? "torchvision" : "paper";
  torch::manual_seed(3);
  DeepLab model = build_model(c);
  randomise_norms(*model);
  model->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor images = torch::randn({2, 3, 65, 81});
  const ModelOutputs before = model->forward_outputs(images, false);

  const int norms = count_norms(*model);
  const FoldReport report = fold_batch_norms(*model);
  EXPECT_EQ(report.folded, norms);
  EXPECT_TRUE(report.unfolded.empty()) << "first unfolded: " << report.unfolded.front();
  const ModelOutputs after = model->forward_outputs(images, false);
  ASSERT_EQ(after.size(), before.size());
  for (const auto& [name, output] : before) {
    EXPECT_LT(relative_error(after.at(name).value, output.value), 1e-5) << name;
  }
  // Folding again finds nothing left to fold and changes nothing.
  EXPECT_EQ(fold_batch_norms(*model).folded, 0);
  EXPECT_LT(relative_error(model->forward(images), before.at("semantic").value), 1e-5);
}

std::vector<Case> cases() {
  std::vector<Case> out;
  for (const char* backbone : {"resnet50", "resnet50_deep_stem", "mobilenet_v2", "mobilenet_v3_large",
                               "mobilenet_v3_small", "vgg16", "xception65", "xception71"}) {
    out.emplace_back("deeplabv3plus", backbone);
  }
  out.emplace_back("deeplabv3", "resnet50");  // torchvision-style head: conv + BN after ASPP
  out.emplace_back("panoptic_deeplab", "resnet50");
  out.emplace_back("deeplabv2", "resnet50");
  return out;
}

INSTANTIATE_TEST_SUITE_P(EveryBackbone, FoldBatchNorm, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return std::get<0>(info.param) + "_" + std::get<1>(info.param); });

TEST(FoldBatchNormErrors, TrainingModelIsRefusedAndFoldedLayerCannotTrain) {
  ModelConfig c;
  c.num_classes = 3;
  c.backbone.name = "mobilenet_v3_small";
  DeepLab model = build_model(c);
  model->train();
  EXPECT_THROW(fold_batch_norms(*model), Error);
  model->eval();
  EXPECT_GT(fold_batch_norms(*model).folded, 0);
  model->train();
  EXPECT_THROW(model->forward(torch::randn({2, 3, 33, 33})), c10::Error);
}

TEST(FoldBatchNormErrors, NormWithoutAConvBeforeItIsLeftAndReported) {
  auto net = torch::nn::Sequential(torch::nn::ReLU(), Norm2d(4), torch::nn::Conv2d(torch::nn::Conv2dOptions(4, 4, 1)),
                                   Norm2d(5));
  net->eval();
  const FoldReport report = fold_batch_norms(*net);
  EXPECT_EQ(report.folded, 0);
  EXPECT_EQ(report.unfolded, (std::vector<std::string>{"1", "3"}));  // no conv before; channel mismatch
}

}  // namespace
}  // namespace deeplab::models
