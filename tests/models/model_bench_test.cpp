// The model benchmark's figures hang together: one timing per pass, p90 >=
// median, images/s and achieved GFLOP/s follow from the median and the
// summary's MACs, the GEMM peak is measured; bad options are an error.
// (Speed itself is never asserted: these machines differ by 1.7x.)

#include "deeplab/models/model_bench.h"

#include <gtest/gtest.h>

#include "deeplab/core/error.h"
#include "deeplab/models/factory.h"
#include "deeplab/models/summary.h"
#include "tests/support/test_support.h"

namespace deeplab::models {
namespace {

DeepLab tiny_model() {
  ModelConfig c;
  c.num_classes = 5;
  c.backbone.name = "mobilenet_v3_small";
  return build_model(c);
}

TEST(ModelBench, FiguresFollowFromTheTimings) {
  DeepLab model = tiny_model();
  ModelBenchOptions o;
  o.height = 64;
  o.width = 96;
  o.batch = 2;
  o.iterations = 5;
  o.warmup = 1;
  const ModelBenchResult r = benchmark_model(*model, o);
  ASSERT_EQ(r.milliseconds.size(), 5u);
  EXPECT_GT(r.median_ms, 0);
  EXPECT_GE(r.p90_ms, r.median_ms);
  EXPECT_DOUBLE_EQ(r.images_per_second, 2 * 1e3 / r.median_ms);
  EXPECT_DOUBLE_EQ(r.macs_per_image, summarize(*model, 64, 96, 0).conv_macs);
  EXPECT_NEAR(r.achieved_gflops, 2 * r.macs_per_image * 2 / (r.median_ms * 1e-3) / 1e9, 1e-9);
  EXPECT_GT(r.gemm_peak_gflops, 0);
  EXPECT_GT(r.peak_rss_mib, 0);
  EXPECT_FALSE(model->is_training());
}

TEST(ModelBench, BadOptionsAreAnError) {
  DeepLab model = tiny_model();
  ModelBenchOptions o;
  o.batch = 0;
  EXPECT_THROW(benchmark_model(*model, o), ConfigError);
}

}  // namespace
}  // namespace deeplab::models

namespace deeplab::models {
namespace {

// The inference flags reach the benchmark and win over a --set of the same
// key given before them (CLI11 assigns --set's list when it parses it).
TEST(ModelBenchCli, InferenceFlagsApplyAndWinOverSet) {
  testing::TempDir dir;
  const std::string config =
      dir.write("m.yaml", "model: {arch: deeplabv3, num_classes: 3, backbone: {name: mobilenet_v3_small}}\n");
  const auto r = testing::run_deeplab("bench model -c " + config +
                                      " --size 33x41 --iters 1 --warmup 0 --set eval.fold_bn=true --no-fold-bn "
                                      "--amp bf16 --set runtime.threads=1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("BN, channels-last, bf16 autocast (0 BN layers folded)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(" GHz before, "), std::string::npos) << "the core clock line: " << r.output;
  const auto folded =
      testing::run_deeplab("bench model -c " + config + " --size 33x41 --iters 1 --warmup 0 --no-channels-last");
  ASSERT_EQ(folded.exit_code, 0) << folded.output;
  EXPECT_NE(folded.output.find("folded BN, NCHW, fp32"), std::string::npos) << folded.output;
}

}  // namespace
}  // namespace deeplab::models
