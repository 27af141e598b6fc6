// A run directory holds the effective config (which loads back to the same
// values) and the run's log.

#include "deeplab/experiment/run_dir.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include "deeplab/core/fs_util.h"
#include "deeplab/experiment/config.h"
#include "tests/support/test_support.h"

namespace deeplab::experiment {
namespace {

TEST(RunDir, HoldsEffectiveConfigAndLog) {
  testing::TempDir dir;
  Config config;
  config.train.lr = 0.02;
  const std::string run = dir.file("runs/exp1");
  prepare_run_dir(config, run);
  spdlog::info("hello from the test");
  spdlog::default_logger()->flush();
  EXPECT_EQ(load_config(run + "/config.yaml").train.lr, 0.02);
  EXPECT_NE(core::read_file(run + "/log.txt").find("hello from the test"), std::string::npos);
  spdlog::default_logger()->sinks().pop_back();  // detach the file sink again
}

}  // namespace
}  // namespace deeplab::experiment
