// Inference options: folded BN + channels-last (the defaults) give the plain
// fp32 logits to 1e-5 relative; bf16 autocast gives float32 outputs that
// mostly agree on the arg-max; outputs come back contiguous NCHW; an autocast
// mode the device cannot run is a ConfigError naming eval.amp.

#include "deeplab/models/inference.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "deeplab/core/error.h"
#include "deeplab/models/factory.h"
#include "deeplab/models/layers/norm.h"

namespace deeplab::models {
namespace {

DeepLab seeded_model() {
  ModelConfig c;
  c.arch = "deeplabv3plus";
  c.num_classes = 6;
  c.backbone.name = "resnet50";
  c.backbone.output_stride = 16;
  torch::manual_seed(5);
  DeepLab model = build_model(c);
  torch::NoGradGuard no_grad;
  for (const auto& m : model->modules()) {  // statistics as after training, not the identity
    if (auto* norm = dynamic_cast<Norm2dImpl*>(m.get())) {
      norm->running_mean.uniform_(-0.2, 0.2);
      norm->running_var.uniform_(0.5, 1.5);
    }
  }
  return model;
}

TEST(Inference, DefaultsFoldAndGoChannelsLastWithTheSameLogits) {
  const InferenceOptions defaults;
  EXPECT_TRUE(defaults.fold_bn);
  EXPECT_TRUE(defaults.channels_last);
  EXPECT_EQ(defaults.amp, "none");
  EXPECT_EQ(defaults.describe(), "folded BN, channels-last, fp32");

  DeepLab model = seeded_model();
  model->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor images = torch::randn({1, 3, 97, 81});
  const torch::Tensor reference = model->forward(images);
  const FoldReport report = prepare_for_inference(*model, defaults);
  EXPECT_GT(report.folded, 50);
  const ModelOutputs out = infer_outputs(*model, images, defaults);
  const torch::Tensor logits = out.at("semantic").value;
  EXPECT_TRUE(logits.is_contiguous());
  EXPECT_EQ(logits.scalar_type(), torch::kFloat32);
  const double relative = ((logits - reference).abs().max() / reference.abs().max()).item<double>();
  EXPECT_LT(relative, 1e-5);
}

TEST(Inference, Bf16AutocastGivesFloatLogitsThatMostlyAgree) {
  DeepLab model = seeded_model();
  model->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor images = torch::randn({1, 3, 65, 65});
  const torch::Tensor reference = model->forward(images);
  InferenceOptions bf16;
  bf16.amp = "bf16";
  prepare_for_inference(*model, bf16);
  const torch::Tensor logits = infer_outputs(*model, images, bf16).at("semantic").value;
  EXPECT_EQ(logits.scalar_type(), torch::kFloat32);
  // bf16 keeps 8 bits of mantissa: the logits move, the decision mostly not.
  const double relative = ((logits - reference).abs().max() / reference.abs().max()).item<double>();
  EXPECT_GT(relative, 1e-5) << "bf16 ran in fp32?";
  const double agreement = logits.argmax(1).eq(reference.argmax(1)).to(torch::kFloat64).mean().item<double>();
  EXPECT_GT(agreement, 0.9);
}

TEST(Inference, Fp16OnCpuIsAConfigErrorNamingTheKey) {
  DeepLab model = seeded_model();
  InferenceOptions fp16;
  fp16.amp = "fp16";
  prepare_for_inference(*model, fp16);
  try {
    infer_outputs(*model, torch::randn({1, 3, 33, 33}), fp16);
    FAIL() << "fp16 on CPU ran";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("eval.amp"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace deeplab::models
