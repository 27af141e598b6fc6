// Learning-rate schedules against their formulas, the losses against
// hand-computed values (named terms over named outputs), and the fp16
// gradient scaler with injected inf gradients.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "deeplab/core/error.h"
#include "deeplab/models/factory.h"
#include "deeplab/train/losses.h"
#include "deeplab/train/lr_schedule.h"
#include "deeplab/train/mixed_precision.h"

namespace deeplab::train {
namespace {

TEST(LrSchedule, PolyEqualsFormulaIncludingWarmup) {
  ScheduleConfig c;
  c.name = "poly";
  c.power = 0.9;
  c.warmup_iters = 10;
  c.warmup_factor = 0.1;
  const LrSchedule schedule(0.01, 100, c);
  // After warmup: 0.01 * (1 - it/100)^0.9.
  for (int it : {10, 37, 50, 99}) EXPECT_NEAR(schedule.at(it), 0.01 * std::pow(1 - it / 100.0, 0.9), 1e-15) << it;
  EXPECT_DOUBLE_EQ(schedule.at(100), 0.0);
  // Warmup: poly value times (0.1 + 0.9 * it / 10).
  EXPECT_NEAR(schedule.at(0), 0.01 * 0.1, 1e-15);
  EXPECT_NEAR(schedule.at(5), 0.01 * std::pow(0.95, 0.9) * (0.1 + 0.9 * 0.5), 1e-15);
}

TEST(LrSchedule, PolyWithMinLrStepAndCosine) {
  ScheduleConfig c;
  c.min_lr = 1e-4;
  EXPECT_NEAR(LrSchedule(0.01, 100, c).at(50), (0.01 - 1e-4) * std::pow(0.5, 0.9) + 1e-4, 1e-15);
  c = ScheduleConfig();
  c.name = "step";
  c.steps = {20, 40};
  const LrSchedule step(0.1, 60, c);
  EXPECT_DOUBLE_EQ(step.at(19), 0.1);
  EXPECT_NEAR(step.at(20), 0.01, 1e-15);
  EXPECT_NEAR(step.at(45), 0.001, 1e-15);
  c = ScheduleConfig();
  c.name = "cosine";
  EXPECT_NEAR(LrSchedule(0.1, 100, c).at(50), 0.05, 1e-15);
  EXPECT_NEAR(LrSchedule(0.1, 100, c).at(25), 0.05 * (1 + std::cos(M_PI / 4)), 1e-15);
}

// Logits for 1 image of 1x4 pixels, 2 classes.  Per-pixel CE = log(1 + e^-m)
// where m is the margin of the true class: margins 2, 0, -1 and an ignored pixel.
struct Toy {
  torch::Tensor logits = torch::tensor({2.0f, 0.0f, 0.0f, 9.0f, 0.0f, 0.0f, 1.0f, 0.0f}).view({1, 2, 1, 4});
  torch::Tensor labels = torch::tensor({0L, 0L, 0L, 255L}).view({1, 1, 4});
  double ce(double margin) const { return std::log1p(std::exp(-margin)); }
};

TEST(Losses, IgnoreIndexAndMean) {
  Toy t;
  const SegmentationLoss loss(LossConfig(), 2, 255);
  const double expected = (t.ce(2) + t.ce(0) + t.ce(-1)) / 3;  // pixel 4 (ignored) does not count
  EXPECT_NEAR(loss(t.logits, t.labels).item<double>(), expected, 1e-6);
}

TEST(Losses, TopKKeepsTheHardestPixels) {
  Toy t;
  LossConfig c;
  c.top_k_percent = 0.5;  // ceil(0.5 * 3 valid pixels) = 2 hardest: margins -1 and 0
  EXPECT_NEAR(SegmentationLoss(c, 2, 255)(t.logits, t.labels).item<double>(), (t.ce(-1) + t.ce(0)) / 2, 1e-6);
  c.top_k_percent = 0.2;  // ceil(0.6) = 1: only margin -1
  EXPECT_NEAR(SegmentationLoss(c, 2, 255)(t.logits, t.labels).item<double>(), t.ce(-1), 1e-6);
}

TEST(Losses, TopKIsPerImageAndCountsOnlyNonZeroLosses) {
  // deeplab2's compute_average_top_k_loss: per image, k = round(p * H * W)
  // largest losses (ignored pixels are 0), divided by how many are non-zero.
  Toy t;
  LossConfig c;
  c.top_k_percent = 0.9;  // k = round(3.6) = 4: all pixels, one of them ignored (0)
  const double image0 = (t.ce(2) + t.ce(0) + t.ce(-1)) / 3;
  EXPECT_NEAR(SegmentationLoss(c, 2, 255)(t.logits, t.labels).item<double>(), image0, 1e-6);
  // A second image, all ignored: its loss is 0 and the batch mean halves.
  const auto logits = torch::cat({t.logits, t.logits});
  const auto labels = torch::cat({t.labels, torch::full_like(t.labels, 255)});
  EXPECT_NEAR(SegmentationLoss(c, 2, 255)(logits, labels).item<double>(), image0 / 2, 1e-6);
  // The batch is the global one: a GlobalSum that says 4 images in all (2 here).
  const GlobalSum four_images = [](torch::Tensor local) { return local * 2; };
  EXPECT_NEAR(SegmentationLoss(c, 2, 255, four_images)(logits, labels).item<double>(), image0 / 4, 1e-6);
}

TEST(Losses, ClassWeightsGiveAWeightedMean) {
  // Labels 0, 1, 1 with weights 1 and 3: (w0*l0 + w1*l1 + w1*l2) / (w0 + 2 w1).
  const auto logits = torch::tensor({2.0f, 0.0f, 0.0f, 0.0f, 0.0f, 1.0f}).view({1, 2, 1, 3});
  const auto labels = torch::tensor({0L, 1L, 1L}).view({1, 1, 3});
  LossConfig c;
  c.class_weights = {1.0, 3.0};
  const double l0 = std::log1p(std::exp(-2.0)), l1 = std::log1p(std::exp(0.0)), l2 = std::log1p(std::exp(-1.0));
  EXPECT_NEAR(SegmentationLoss(c, 2, 255)(logits, labels).item<double>(), (l0 + 3 * l1 + 3 * l2) / 7, 1e-6);
  c.class_weights = {1.0};
  EXPECT_THROW(SegmentationLoss(c, 2, 255), ConfigError);
}

TEST(Losses, AuxAndMscOutputsAddUp) {
  Toy t;
  LossConfig c;
  c.aux_weight = 0.5;
  const SegmentationLoss loss(c, 2, 255);
  models::ModelOutputs out{
      {"semantic", {t.logits}}, {"aux", {t.logits * 2}}, {"msc/1", {t.logits}}, {"msc/0.5", {t.logits * 0.5}}};
  data::Batch batch;
  batch.labels = t.labels;
  const LossTerms terms = loss.terms(out, batch);
  std::vector<std::string> names;
  for (const auto& term : terms) names.push_back(term.first);
  EXPECT_EQ(names, (std::vector<std::string>{"semantic", "aux", "msc/0.5", "msc/1"}));
  EXPECT_NEAR(terms[1].second.item<double>(), 0.5 * loss(t.logits * 2, t.labels).item<double>(), 1e-6);
  const double expected = loss(t.logits, t.labels).item<double>() * 2 +
                          0.5 * loss(t.logits * 2, t.labels).item<double>() +
                          loss(t.logits * 0.5, t.labels).item<double>();
  EXPECT_NEAR(total_loss(terms).item<double>(), expected, 1e-6);
  EXPECT_THROW(loss.terms({{"aux", {t.logits}}}, batch), ConfigError);
}

TEST(GradScaler, InfGradientsSkipTheStepAndShrinkTheScale) {
  auto w = torch::ones({3}, torch::requires_grad());
  torch::optim::SGD sgd({w}, torch::optim::SGDOptions(0.1));
  GradScaler scaler(1024.0, 2.0, 0.5, /*growth_interval=*/2);
  auto loss = (w * torch::tensor({1.0f, 2.0f, 3.0f})).sum();
  scaler.scale(loss).backward();
  EXPECT_TRUE(scaler.unscale({w}));
  EXPECT_TRUE(torch::allclose(w.grad(), torch::tensor({1.0f, 2.0f, 3.0f})));  // unscaled exactly
  scaler.update(true);
  // Injected inf: the step must be skipped and the scale halved.
  w.mutable_grad().index_put_({1}, std::numeric_limits<float>::infinity());
  const bool finite = scaler.unscale({w});
  EXPECT_FALSE(finite);
  scaler.update(finite);
  EXPECT_DOUBLE_EQ(scaler.current_scale(), 512.0);
  EXPECT_EQ(scaler.good_steps(), 0);
  // Two good steps in a row grow it again.
  scaler.update(true);
  scaler.update(true);
  EXPECT_DOUBLE_EQ(scaler.current_scale(), 1024.0);
}

}  // namespace
}  // namespace deeplab::train
