// `deeplab bench train` (experiment/train_bench.h): times the requested
// number of real training steps at the requested batch and crop, reports
// images/s consistent with the median, runs paced by a driver (compare.py's
// interleaving) until the driver stops, and refuses panoptic models and
// non-positive sizes with a ConfigError.

#include "deeplab/experiment/train_bench.h"

#include <gtest/gtest.h>

#include "deeplab/core/error.h"

namespace deeplab::experiment {
namespace {

Config small_config() {
  Config config;
  config.model.arch = "deeplabv3";
  config.model.num_classes = 4;
  config.model.backbone.name = "mobilenet_v3_small";
  config.runtime.threads = 1;
  return config;
}

TEST(TrainBench, TimesTheRequestedStepsAndReportsImagesPerSecond) {
  TrainBenchOptions o;
  o.batch = 2;
  o.crop_height = 33;
  o.crop_width = 41;
  o.iterations = 3;
  o.warmup = 1;
  const TrainBenchResult r = benchmark_training(small_config(), o);
  ASSERT_EQ(r.milliseconds.size(), 3u);
  for (double ms : r.milliseconds) EXPECT_GT(ms, 0);
  EXPECT_GE(r.p90_ms, r.median_ms);
  EXPECT_NEAR(r.images_per_second, 2 * 1e3 / r.median_ms, 1e-9);
  EXPECT_GT(r.peak_rss_mib, 10);
  // The parts are each a share of the step (medians need not add up exactly).
  const auto& p = r.median_parts;
  EXPECT_GT(p.forward, 0);
  EXPECT_GT(p.backward, 0);
  EXPECT_GT(p.update, 0);
  EXPECT_GE(p.data, 0);
  EXPECT_LT(p.forward + p.backward, r.p90_ms * 1e-3 * 1.01);
}

TEST(TrainBench, PacedRunAsksBeforeEachTimedStepAndStopsWhenTheDriverDoes) {
  TrainBenchOptions o;
  o.batch = 2;
  o.crop_height = o.crop_width = 33;
  o.iterations = 100;
  o.warmup = 1;
  int asked = 0;
  std::vector<double> reported;
  o.before_timed_step = [&] { return ++asked <= 2; };  // two steps, then the driver stops
  o.after_timed_step = [&](double ms) { reported.push_back(ms); };
  const TrainBenchResult r = benchmark_training(small_config(), o);
  EXPECT_EQ(asked, 3);
  EXPECT_EQ(r.milliseconds, reported);
  EXPECT_EQ(r.milliseconds.size(), 2u);
  // A driver that stops before any timed step leaves nothing to report: an error, not a zero.
  o.before_timed_step = [] { return false; };
  EXPECT_THROW(benchmark_training(small_config(), o), ConfigError);
}

TEST(TrainBench, PanopticModelsAndEmptyCropsAreConfigErrors) {
  Config panoptic = small_config();
  panoptic.model.arch = "panoptic_deeplab";
  EXPECT_THROW(benchmark_training(panoptic, TrainBenchOptions{}), ConfigError);
  TrainBenchOptions zero;
  zero.crop_height = 0;
  EXPECT_THROW(benchmark_training(small_config(), zero), ConfigError);
}

}  // namespace
}  // namespace deeplab::experiment
