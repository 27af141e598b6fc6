// Every DeepLab version (v1 LargeFOV, v2 ASPP-L with MSC, v3, v3+) learns
// through the real Trainer::run_step: with a small backbone it overfits one
// fixed batch of generated scenes to >= 90 % pixel accuracy within a bounded
// number of steps.  90 %, not 95 %: v2's plateau on these 64 px scenes (MSC
// max fusion over 4x4 logits at scale 0.5) lies at 94-97 % depending on the
// CPU's kernels, seed and threads, and one such run first passed 95 % at its
// last step; every version passes 90 % with a margin of points and steps.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <iostream>

#include "tests/support/test_support.h"
#include "tests/train/train_fixtures.h"

namespace deeplab::train {
namespace {

double pixel_accuracy(models::DeepLabImpl& model, const data::Batch& batch) {
  torch::NoGradGuard no_grad;
  model.eval();
  const auto predicted = model.forward(batch.images).argmax(1);
  const auto valid = batch.labels != 255;
  return (predicted.eq(batch.labels) & valid).sum().item<double>() / valid.sum().item<double>();
}

constexpr double kRequired = 0.90;  // pixel accuracy on the batch

class Overfit : public ::testing::TestWithParam<std::string> {};

TEST_P(Overfit, OneBatchReaches90PercentPixelAccuracy) {
  testing::TempDir dir;
  // Two scenes, one batch, the evaluation pipeline: every step sees the same batch.
  const auto scenes = testing::memory_voc(2, 64);
  auto fixed = testing::memory_loader(scenes, 2, 64, /*train=*/false);
  fixed->start_epoch(0);
  const data::Batch batch = *fixed->next();

  torch::manual_seed(testing::test_seed(0));
  at::set_num_threads(testing::test_threads(at::get_num_threads()));
  models::ModelConfig m;
  m.arch = GetParam();
  m.num_classes = testing::kVocClasses;
  // MobileNet-V2's BN momentum (0.1) lets eval-mode statistics catch up within
  // the budget; V3's 0.01 would need thousands of steps.
  m.backbone.name = "mobilenet_v2";
  m.backbone.output_stride = 8;
  TrainConfig t;
  t.lr = 2e-3;
  t.max_iters = 200;
  // Decaying, so that later checks see settled weights rather than Adam's
  // wandering at a constant lr.
  t.schedule.name = "poly";
  t.optimizer.name = "adam";
  t.optimizer.weight_decay = 0;
  auto model = models::build_model(m);
  Trainer trainer = testing::trainer_from_parts(model, testing::memory_loader(scenes, 2, 64, false), t, dir.path());
  double accuracy = 0;
  while (trainer.state().iteration < t.max_iters) {
    for (int i = 0; i < 25; ++i) trainer.run_step();
    accuracy = pixel_accuracy(*model, batch);
    if (accuracy >= kRequired) break;
  }
  EXPECT_GE(accuracy, kRequired) << GetParam() << " after " << trainer.state().iteration << " steps";
  // The margin: how much of the step budget reaching it took (scripts/check_training_margins.sh).
  std::cout << "margin overfit " << GetParam() << ": accuracy " << accuracy << " after " << trainer.state().iteration
            << " of " << t.max_iters << " steps\n";
  RecordProperty("steps", static_cast<int>(trainer.state().iteration));
}

INSTANTIATE_TEST_SUITE_P(EveryArch, Overfit, ::testing::Values("deeplabv1", "deeplabv2", "deeplabv3", "deeplabv3plus"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace deeplab::train
