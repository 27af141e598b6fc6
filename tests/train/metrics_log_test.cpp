// metrics.jsonl: an evaluation line keeps the evaluator's own numbers (a PQ
// run's mIoU is the mIoU, not the PQ it selects by), the selection score and
// its metric survive a reload, lines past a resume point are dropped, and the
// files written before "score" existed still reload.

#include "deeplab/train/metrics_log.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "deeplab/core/fs_util.h"
#include "tests/support/test_support.h"

namespace deeplab::train {
namespace {

std::vector<nlohmann::json> lines_of(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

TEST(MetricsLog, PanopticEvaluationKeepsItsMiouBesideThePqScore) {
  testing::TempDir dir;
  {
    MetricsLog log(dir.path(), 0);
    log.add_eval({100, 0.61, "PQ"}, R"({"mIoU": 0.83, "PQ": 0.61})");
  }
  const auto lines = lines_of(dir.path() + "/metrics.jsonl");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_DOUBLE_EQ(lines[0]["mIoU"].get<double>(), 0.83);
  EXPECT_DOUBLE_EQ(lines[0]["score"].get<double>(), 0.61);
  EXPECT_EQ(lines[0]["metric"], "PQ");

  const MetricsLog reloaded(dir.path(), 100);
  ASSERT_EQ(reloaded.eval().size(), 1u);
  EXPECT_DOUBLE_EQ(reloaded.eval()[0].score, 0.61);
  EXPECT_EQ(reloaded.eval()[0].metric, "PQ");
}

TEST(MetricsLog, ReloadDropsLinesPastTheResumePointAndReadsOldFiles) {
  testing::TempDir dir;
  dir.write("metrics.jsonl",
            "{\"kind\": \"eval\", \"iteration\": 50, \"mIoU\": 0.4}\n"  // written before "score" existed
            "{\"kind\": \"train\", \"iteration\": 60, \"loss\": 1.5, \"lr\": 0.01}\n"
            "{\"kind\": \"eval\", \"iteration\": 90, \"mIoU\": 0.5, \"score\": 0.5, \"metric\": \"mIoU\"}\n"
            "{\"kind\": \"train\", \"iteration\"");  // torn by a crash
  const MetricsLog log(dir.path(), 60);
  ASSERT_EQ(log.eval().size(), 1u);
  EXPECT_EQ(log.eval()[0].iteration, 50);
  EXPECT_DOUBLE_EQ(log.eval()[0].score, 0.4);
  EXPECT_EQ(log.eval()[0].metric, "mIoU");
  ASSERT_EQ(log.train().size(), 1u);
  EXPECT_EQ(lines_of(log.path()).size(), 2u) << "the file is rewritten without the dropped lines";
}

}  // namespace
}  // namespace deeplab::train
