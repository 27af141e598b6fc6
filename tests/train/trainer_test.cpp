// The trainer built from its parts on in-memory data: named loss terms in
// every step, hook state through a checkpoint (also for hooks added after the
// resume), frozen norm layers untouched by training, and loss terms in
// metrics.jsonl.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <fstream>

#include "deeplab/models/layers/norm.h"
#include "deeplab/train/hooks.h"
#include "deeplab/train/metrics_log.h"
#include "tests/support/test_support.h"
#include "tests/train/train_fixtures.h"

namespace deeplab::train {
namespace {

models::DeepLab small_model(bool aux, const std::string& norm = "bn") { return testing::tiny_deeplab(norm, aux); }

TrainConfig small_train(int max_iters) {
  TrainConfig t;
  t.max_iters = max_iters;
  t.lr = 0.01;
  t.optimizer.name = "adamw";
  return t;
}

Trainer make(const testing::TempDir& dir, models::DeepLab model, int max_iters) {
  return testing::trainer_from_parts(std::move(model), testing::memory_loader(testing::memory_voc(6, 40), 2, 32, true),
                                     small_train(max_iters), dir.path());
}

TEST(Trainer, StepsGiveNamedLossTermsThatAddUp) {
  testing::TempDir dir;
  Trainer trainer = make(dir, small_model(/*aux=*/true), 3);
  const StepResult step = trainer.run_step();
  ASSERT_EQ(step.terms.size(), 2u);
  EXPECT_EQ(step.terms[0].first, "semantic");
  EXPECT_EQ(step.terms[1].first, "aux");
  EXPECT_NEAR(step.terms[0].second + step.terms[1].second, step.loss, 1e-5);
  EXPECT_EQ(step.images, 2);
  EXPECT_EQ(trainer.state().iteration, 1);
}

// A hook that counts the steps it saw and keeps the count across resumes.
class CountingHook : public Hook {
 public:
  std::string name() const override { return "counter"; }
  TensorMap state_dict() const override { return {{"steps", state_scalar(steps)}}; }
  void load_state_dict(const TensorMap& state) override { steps = state_int(state, "steps", -1); }
  void after_step(Trainer&) override { ++steps; }
  int64_t steps = 0;
};

TEST(Trainer, HookStateRoundTripsThroughACheckpoint) {
  testing::TempDir dir;
  Trainer first = make(dir, small_model(false), 3);
  auto counter = std::make_shared<CountingHook>();
  first.add_hook(counter);
  first.run();
  EXPECT_EQ(counter->steps, 3);
  const std::string path = first.save_checkpoint(dir.file("ckpt"));

  // Hook added before the resume ...
  Trainer second = make(dir, small_model(false), 6);
  auto before = std::make_shared<CountingHook>();
  second.add_hook(before);
  second.resume(path);
  EXPECT_EQ(before->steps, 3);
  EXPECT_EQ(second.state().iteration, 3);
  // ... and after it: both get their state.
  Trainer third = make(dir, small_model(false), 6);
  third.resume(path);
  auto after = std::make_shared<CountingHook>();
  third.add_hook(after);
  EXPECT_EQ(after->steps, 3);
  third.run();
  EXPECT_EQ(after->steps, 6);
}

TEST(Trainer, ResumedStepsEqualUninterruptedOnes) {
  testing::TempDir dir;
  Trainer straight = make(dir, small_model(false), 4);
  std::vector<double> expected;
  for (int i = 0; i < 4; ++i) expected.push_back(straight.run_step().loss);

  Trainer stopped = make(dir, small_model(false), 4);
  EXPECT_NEAR(stopped.run_step().loss, expected[0], 1e-6);
  EXPECT_NEAR(stopped.run_step().loss, expected[1], 1e-6);
  const std::string path = stopped.save_checkpoint(dir.file("ckpt"));
  Trainer resumed = make(dir, small_model(false), 4);
  resumed.resume(path);
  EXPECT_NEAR(resumed.run_step().loss, expected[2], 1e-6);
  EXPECT_NEAR(resumed.run_step().loss, expected[3], 1e-6);
}

TEST(Trainer, FrozenNormLayersStayUntouched) {
  testing::TempDir dir;
  models::DeepLab model = small_model(false, "frozen_bn");
  std::vector<std::pair<std::string, torch::Tensor>> before;
  for (const auto& module : model->named_modules()) {
    if (!models::is_norm_layer(*module.value())) continue;
    for (const auto& b : module.value()->named_buffers())
      before.emplace_back(module.key() + "." + b.key(), b.value().clone());
    for (const auto& p : module.value()->named_parameters())
      before.emplace_back(module.key() + "." + p.key(), p.value().clone());
  }
  ASSERT_FALSE(before.empty());
  Trainer trainer = make(dir, model, 2);
  trainer.run();
  const auto params = model->named_parameters();
  const auto buffers = model->named_buffers();
  for (const auto& [key, value] : before) {
    const torch::Tensor now = params.contains(key) ? params[key] : buffers[key];
    EXPECT_TRUE(torch::equal(now, value)) << key;
  }
}

TEST(Trainer, ProgressHookLogsEachLossTerm) {
  testing::TempDir dir;
  Trainer trainer = make(dir, small_model(true), 2);
  auto log = std::make_shared<MetricsLog>(dir.path(), 0);
  trainer.add_hook(std::make_shared<ProgressHook>(log, 1));
  trainer.run();
  std::ifstream in(log->path());
  int lines = 0;
  for (std::string line; std::getline(in, line); ++lines) {
    const auto j = nlohmann::json::parse(line);
    EXPECT_NEAR(j["loss/semantic"].get<double>() + j["loss/aux"].get<double>(), j["loss"].get<double>(), 1e-5);
  }
  EXPECT_EQ(lines, 2);
}

}  // namespace
}  // namespace deeplab::train
