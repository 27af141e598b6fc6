// deeplab::train_experiment, the public training entry: a whole run as `deeplab train`
// makes it (run directory, weights, summary), a resume from its checkpoint,
// and a bad config named in the error.

#include "deeplab/training.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/test_support.h"

namespace fs = std::filesystem;

namespace deeplab {
namespace {

TEST(Training, TrainRunsAWholeRunAndResumesFromItsCheckpoint) {
  testing::TempDir dir;
  const auto synth =
      testing::run_deeplab("data synth --layout voc --out " + dir.file("voc") + " --num 8 --size 48x48 --seed 5");
  ASSERT_EQ(synth.exit_code, 0) << synth.output;
  TrainingOptions options;
  options.work_dir = dir.file("run");
  options.graceful_stop = false;
  options.overrides = {"data.root=" + dir.file("voc"), "train.max_iters=3",        "data.batch_size=2",
                       "data.crop_size=[48,48]",       "train.checkpoint_every=3", "train.log_every=1",
                       "train.eval_every=3",           "runtime.threads=2"};
  const std::string config = testing::source_path("configs/quickstart/synthetic_voc.yaml");
  const TrainingSummary first = train_experiment(config, options);
  EXPECT_EQ(first.iterations, 3);
  EXPECT_FALSE(first.interrupted);
  EXPECT_EQ(first.work_dir, dir.file("run"));
  EXPECT_EQ(first.best_metric, "mIoU");
  EXPECT_GE(first.best_score, 0.0);
  EXPECT_LE(first.best_score, 1.0);
  EXPECT_EQ(first.best_iteration, 3);
  EXPECT_TRUE(fs::exists(first.best_weights));
  EXPECT_TRUE(fs::exists(first.final_weights));
  EXPECT_TRUE(fs::exists(dir.file("run/checkpoints/iter_0000003.ckpt")));
  EXPECT_TRUE(fs::exists(dir.file("run/metrics.jsonl")));

  // Two more iterations from the newest checkpoint.
  options.overrides.push_back("train.max_iters=5");
  options.resume_newest = true;
  const TrainingSummary resumed = train_experiment(config, options);
  EXPECT_EQ(resumed.iterations, 5);
}

TEST(Training, AMissingConfigIsNamed) {
  testing::TempDir dir;
  try {
    train_experiment(dir.file("absent.yaml"));
    FAIL() << "a missing config trained";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("absent.yaml"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace deeplab
