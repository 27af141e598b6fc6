// kMaX-DeepLab's loss from a batch: the ground truth brought to the output
// stride as deeplab2's strided_downsample and thing-id map (instances
// numbered by value, crowd in no segment, the instances' classes), the error
// when a crop holds more instances than mask columns, and the named terms of
// a real model's outputs with gradients reaching the backbone.

#include "deeplab/train/kmax_loss.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "deeplab/core/error.h"
#include "deeplab/data/loader.h"
#include "deeplab/models/factory.h"
#include "tests/train/train_fixtures.h"

namespace deeplab::train {
namespace {

constexpr int kPerson = 11, kCar = 13, kRoad = 0;

MaXLossOptions options_with_things() {
  MaXLossOptions o;
  o.thing_ids = {kPerson, kCar};
  o.max_things = 4;
  return o;
}

// One 4 x 6 image: road, a car (instance 13002), a person (11000 + 7), a
// crowd of cars (instance value 13, below 1000) and a void pixel.
data::Batch four_by_six() {
  data::Batch batch;
  batch.labels = torch::full({1, 4, 6}, kRoad, torch::kLong);
  batch.instances = torch::zeros({1, 4, 6}, torch::kInt);
  batch.labels.index_put_({0, 0, torch::indexing::Slice(0, 2)}, kCar);
  batch.instances.index_put_({0, 0, torch::indexing::Slice(0, 2)}, 13002);
  batch.labels.index_put_({0, 2, torch::indexing::Slice(2, 4)}, kPerson);
  batch.instances.index_put_({0, 2, torch::indexing::Slice(2, 4)}, 11007);
  batch.labels.index_put_({0, 2, 4}, kCar);
  batch.instances.index_put_({0, 2, 4}, 13);
  batch.labels.index_put_({0, 0, 4}, 255);
  batch.ids = {"street"};
  batch.indices = {0};
  return batch;
}

TEST(KMaXTargets, StridedDownsampleThingIdsAndClasses) {
  const MaXTargets t = max_targets_from_batch(four_by_six(), 2, 3, options_with_things());
  // Rows 0 and 2, columns 0, 2 and 4 of the input.
  const auto semantic = torch::tensor({{kCar, kRoad, 255}, {kRoad, kPerson, kCar}}, torch::kLong);
  EXPECT_TRUE(torch::equal(t.semantic[0], semantic)) << t.semantic;
  // Instances numbered by value: the person (11007) first, then the car
  // (13002); the crowd pixel belongs to no instance.
  const auto thing_ids = torch::tensor({{1, -1, -1}, {-1, 0, -1}}, torch::kLong);
  EXPECT_TRUE(torch::equal(t.thing_ids[0], thing_ids)) << t.thing_ids;
  EXPECT_TRUE(torch::equal(t.thing_classes[0], torch::tensor({kPerson, kCar, -1, -1}, torch::kLong)))
      << t.thing_classes;
}

TEST(KMaXTargets, MoreInstancesThanMaskColumnsNamesTheImage) {
  data::Batch batch;
  batch.labels = torch::full({1, 1, 6}, kCar, torch::kLong);
  batch.instances = (torch::arange(6) + 13000).to(torch::kInt).view({1, 1, 6});
  batch.ids = {"crowded_street"};
  try {
    max_targets_from_batch(batch, 1, 6, options_with_things());
    FAIL() << "6 instances fit 4 columns";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("crowded_street"), std::string::npos) << e.what();
  }
  batch.instances = torch::Tensor();
  EXPECT_THROW(max_targets_from_batch(batch, 1, 6, options_with_things()), ConfigError);
}

data::Batch two_streets() {
  data::Batch a = four_by_six();
  data::Batch batch;
  // 64 x 96 by repeating the 4 x 6 layout 16 x 16 times, two images.
  batch.labels = a.labels.repeat({2, 16, 16});
  batch.instances = a.instances.repeat({2, 16, 16});
  batch.semantic_weights = torch::ones({2, 64, 96});
  batch.images = torch::randn({2, 3, 64, 96});
  batch.ids = {"a", "b"};
  batch.indices = {0, 1};
  batch.seeds = {11, 12};
  return batch;
}

TEST(KMaXLoss, NamedTermsOfEveryLayerWithGradientsToTheBackbone) {
  models::DeepLab model = testing::tiny_kmax();
  model->train();
  const data::Batch batch = two_streets();
  LossConfig config;
  config.top_k_percent = 0.2;
  config.instance_sample_k = 64;
  KMaXLoss loss(config, 19, 255, {kPerson, kCar});
  const LossTerms terms = loss.terms(model->forward_outputs(batch.images), batch);
  std::vector<std::string> names;
  for (const auto& [name, value] : terms) {
    names.push_back(name);
    EXPECT_TRUE(std::isfinite(value.item<double>())) << name;
  }
  for (const std::string expected :
       {"semantic", "pq_class", "pq_mask_dice", "mask_id_ce", "instance_disc", "aux0/pq_class", "aux5/instance_disc"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
  }
  EXPECT_EQ(terms.size(), 1u + 4u * 7u);
  total_loss(terms).backward();
  const torch::Tensor stem = model->backbone().parameters().front();
  ASSERT_TRUE(stem.grad().defined());
  EXPECT_GT(stem.grad().abs().sum().item<double>(), 0);
  // Every gradient finite and of the loss's scale: with LibTorch 1.13's
  // batch-norm backward on transposed sequences they reached 1e36.
  for (const auto& p : model->named_parameters()) {
    if (!p.value().grad().defined()) continue;
    EXPECT_LT(p.value().grad().abs().max().item<double>(), 1e3) << p.key();
  }
}

TEST(KMaXLoss, MissingOutputsAndTargetsAreConfigErrors) {
  KMaXLoss loss(LossConfig{}, 19, 255, {kPerson, kCar});
  EXPECT_THROW(loss.terms({}, two_streets()), ConfigError);
}

}  // namespace
}  // namespace deeplab::train
