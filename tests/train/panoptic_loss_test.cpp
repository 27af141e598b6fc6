// Panoptic-DeepLab's loss against hand-computed values: the weighted
// semantic cross-entropy, the center MSE and offset L1 per image over their
// count of non-zero weighted losses, the batch mean, the configured weights,
// and errors when a target or an output is missing.

#include "deeplab/train/panoptic_loss.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "deeplab/core/error.h"

namespace deeplab::train {
namespace {

using models::ModelOutputs;
using models::OutputKind;

// One 2 x 2 image, two classes; every target zero unless a test sets it.
struct Case {
  ModelOutputs outputs;
  data::Batch batch;
  Case(int64_t n = 1) {
    outputs["semantic"] = {torch::zeros({n, 2, 2, 2}, torch::kDouble), OutputKind::kLogits};
    outputs["center"] = {torch::zeros({n, 1, 2, 2}, torch::kDouble), OutputKind::kHeatmap};
    outputs["offset"] = {torch::zeros({n, 2, 2, 2}, torch::kDouble), OutputKind::kOffsets};
    batch.labels = torch::zeros({n, 2, 2}, torch::kLong);
    batch.semantic_weights = torch::ones({n, 2, 2});
    batch.center = torch::zeros({n, 1, 2, 2});
    batch.center_weights = torch::ones({n, 2, 2});
    batch.offset = torch::zeros({n, 2, 2, 2});
    batch.offset_weights = torch::ones({n, 2, 2});
  }
};

double term(const LossTerms& terms, const std::string& name) {
  for (const auto& [n, value] : terms) {
    if (n == name) return value.item<double>();
  }
  ADD_FAILURE() << "no term " << name;
  return NAN;
}

LossConfig unit_weights() {
  LossConfig c;
  c.center_weight = 1;
  c.offset_weight = 1;
  return c;
}

TEST(PanopticLoss, CenterIsSquaredErrorOverItsNonZeroPixels) {
  Case k;
  k.outputs["center"].value[0][0][0][0] = 0.5;  // target 1: (0.5)^2 = 0.25
  k.outputs["center"].value[0][0][1][1] = 3.0;  // weight 0 there: left out
  k.batch.center[0][0][0][0] = 1.0;
  k.batch.center_weights[0][1][1] = 0.0;
  const PanopticLoss loss(unit_weights(), 2, 255);
  // One non-zero loss: 0.25 / 1, not / 3 weighted pixels.
  EXPECT_DOUBLE_EQ(term(loss.terms(k.outputs, k.batch), "center"), 0.25);
  // deeplab2's weight 200.
  EXPECT_DOUBLE_EQ(term(PanopticLoss(LossConfig{}, 2, 255).terms(k.outputs, k.batch), "center"), 50.0);
}

TEST(PanopticLoss, OffsetIsL1MeanOfBothChannelsOnThingPixels) {
  Case k;
  k.outputs["offset"].value[0][0][0][1] = 2.0;  // |2 - 0| and |(-4) - 0|: mean 3
  k.outputs["offset"].value[0][1][0][1] = -4.0;
  k.outputs["offset"].value[0][0][1][0] = 1.0;  // |1 - 3| and |0 - 0|: mean 1
  k.batch.offset[0][0][1][0] = 3.0;
  k.outputs["offset"].value[0][0][1][1] = 7.0;  // offset weight 0 (stuff): left out
  k.batch.offset_weights[0][1][1] = 0.0;
  const PanopticLoss loss(unit_weights(), 2, 255);
  EXPECT_DOUBLE_EQ(term(loss.terms(k.outputs, k.batch), "offset"), (3.0 + 1.0) / 2);
  EXPECT_DOUBLE_EQ(term(PanopticLoss(LossConfig{}, 2, 255).terms(k.outputs, k.batch), "offset"), 0.01 * 2.0);
}

TEST(PanopticLoss, PerImageValuesAreAveragedOverTheBatchAndEmptyImagesCountZero) {
  Case k(2);
  k.outputs["center"].value[0][0][0][0] = 1.0;  // image 0: 1 / 1
  k.outputs["center"].value[1][0][0][0] = 0.0;  // image 1: no error anywhere: 0, not NaN
  k.batch.center[0][0][0][0] = 0.0;
  const PanopticLoss loss(unit_weights(), 2, 255);
  EXPECT_DOUBLE_EQ(term(loss.terms(k.outputs, k.batch), "center"), 0.5);
}

TEST(PanopticLoss, SemanticWeightsScaleSmallInstancePixels) {
  Case k;
  k.batch.labels[0][0][0] = 1;  // logits all 0: CE = log 2 everywhere
  k.batch.labels[0][1][1] = 255;
  k.batch.semantic_weights[0][0][0] = 3.0;
  LossConfig c = unit_weights();
  const PanopticLoss loss(c, 2, 255);
  // Weighted mean over the valid pixels: (3 + 1 + 1) log 2 / (3 + 1 + 1).
  EXPECT_NEAR(term(loss.terms(k.outputs, k.batch), "semantic"), std::log(2.0), 1e-12);
  // Top-k 0.5 of 4 pixels = 2 per image: the two largest weighted losses,
  // 3 log 2 and log 2, over their count 2.
  c.top_k_percent = 0.5;
  EXPECT_NEAR(term(PanopticLoss(c, 2, 255).terms(k.outputs, k.batch), "semantic"), 2 * std::log(2.0), 1e-12);
  c.semantic_weight = 0.5;
  EXPECT_NEAR(term(PanopticLoss(c, 2, 255).terms(k.outputs, k.batch), "semantic"), std::log(2.0), 1e-12);
}

TEST(PanopticLoss, MissingTargetsOrOutputsNameWhatIsMissing) {
  Case k;
  k.batch.center = torch::Tensor();
  const PanopticLoss loss(LossConfig{}, 2, 255);
  try {
    loss.terms(k.outputs, k.batch);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'center' targets"), std::string::npos) << e.what();
  }
  Case m;
  m.outputs.erase("offset");
  try {
    loss.terms(m.outputs, m.batch);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'offset' model output"), std::string::npos) << e.what();
  }
}

TEST(PanopticLoss, GradientsReachEveryHead) {
  Case k;
  for (auto& [name, output] : k.outputs) output.value = torch::randn_like(output.value).requires_grad_();
  k.batch.center = torch::rand({1, 1, 2, 2});
  k.batch.offset = torch::randn({1, 2, 2, 2});
  const PanopticLoss loss(LossConfig{}, 2, 255);
  total_loss(loss.terms(k.outputs, k.batch)).backward();
  for (const auto& [name, output] : k.outputs) {
    ASSERT_TRUE(output.value.grad().defined()) << name;
    EXPECT_GT(output.value.grad().abs().sum().item<double>(), 0) << name;
  }
}

}  // namespace
}  // namespace deeplab::train
