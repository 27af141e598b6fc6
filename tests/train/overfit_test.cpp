// Every DeepLab version (v1 LargeFOV, v2 ASPP-L with MSC, v3, v3+) learns:
// with a small backbone it overfits one fixed batch of generated scenes to
// >= 95 % pixel accuracy within a bounded number of steps.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "deeplab/core/config.h"
#include "deeplab/data/dataset_factory.h"
#include "deeplab/data/loader.h"
#include "deeplab/models/factory.h"
#include "deeplab/train/losses.h"
#include "deeplab/train/optimizer.h"
#include "tests/train/train_fixtures.h"

namespace deeplab::train {
namespace {

data::Batch fixed_batch(const std::string& root) {
  data::DataConfig c;
  c.root = root;
  c.batch_size = 2;
  c.workers = 0;
  data::Loader loader(data::make_dataset(c, "train"), data::Transform(data::TransformOptions::from_config(c, false)),
                      data::LoaderOptions::from_config(c, /*train=*/false, 0));
  loader.start_epoch(0);
  return *loader.next();
}

double pixel_accuracy(models::DeepLabImpl& model, const data::Batch& batch) {
  torch::NoGradGuard no_grad;
  model.eval();
  const auto predicted = model.forward(batch.images).argmax(1);
  const auto valid = batch.labels != 255;
  return (predicted.eq(batch.labels) & valid).sum().item<double>() / valid.sum().item<double>();
}

class Overfit : public ::testing::TestWithParam<std::string> {};

TEST_P(Overfit, OneBatchReaches95PercentPixelAccuracy) {
  testing::TempDir dir;
  const data::Batch batch = fixed_batch(testing::synthetic_voc(dir, 8, 64));
  torch::manual_seed(0);
  models::ModelConfig m;
  m.arch = GetParam();
  m.num_classes = 21;
  // MobileNet-V2's BN momentum (0.1) lets eval-mode statistics catch up within
  // the budget; V3's 0.01 would need thousands of steps.
  m.backbone.name = "mobilenet_v2";
  m.backbone.output_stride = 8;
  auto model = models::build_model(m);
  TrainConfig t;
  t.lr = 2e-3;
  t.optimizer.name = "adam";
  t.optimizer.weight_decay = 0;
  GroupedOptimizer optimizer(*model, t);
  const SegmentationLoss loss(t.loss, m.num_classes, 255);
  constexpr int kMaxSteps = 200;
  int steps = 0;
  double accuracy = 0;
  while (steps < kMaxSteps) {
    model->train();
    for (int i = 0; i < 25; ++i, ++steps) {
      optimizer.optimizer().zero_grad();
      loss.total(model->forward_train(batch.images), batch.labels).backward();
      optimizer.optimizer().step();
    }
    accuracy = pixel_accuracy(*model, batch);
    if (accuracy >= 0.95) break;
  }
  EXPECT_GE(accuracy, 0.95) << GetParam() << " after " << steps << " steps";
  RecordProperty("steps", steps);
}

INSTANTIATE_TEST_SUITE_P(EveryArch, Overfit,
                         ::testing::Values("deeplabv1", "deeplabv2", "deeplabv3", "deeplabv3plus"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace deeplab::train
