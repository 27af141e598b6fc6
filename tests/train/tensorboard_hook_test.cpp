// train.tensorboard: TensorBoard's own reader (PyPI tensorboard, in the tools
// venv) sees exactly what metrics.jsonl holds -- every loss term, lr and
// images/s of every logged step, every score of every evaluation -- plus
// the val_samples image and the resolved config as text; after a resume it
// drops the steps the resumed run redoes, as metrics.jsonl does; and
// train.tensorboard: false writes no event file.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>

#include "tests/support/synthetic_data.h"
#include "tests/support/test_support.h"

namespace deeplab::train {
namespace {

namespace fs = std::filesystem;

std::string write_config(const testing::TempDir& dir, const std::string& root, const std::string& extra = "") {
  return dir.write("tb.yaml",
                   "model:\n  arch: deeplabv3\n  num_classes: 7\n  backbone:\n    name: mobilenet_v3_small\n"
                   "    width_mult: 0.5\n  head:\n    channels: 16\n"
                   "data:\n  descriptor: datasets/synthetic_voc.yaml\n  root: " +
                       root +
                       "\n  crop_size: [40, 40]\n  batch_size: 2\n  workers: 0\n"
                       "train:\n  max_iters: 6\n  lr: 0.02\n  log_every: 2\n  checkpoint_every: 2\n  eval_every: 3\n"
                       "  keep_checkpoints: 10\n  vis_samples: 2\n" +
                       extra + "runtime:\n  threads: 1\n  seed: 3\n  device: cpu\n");
}

// metrics.jsonl as TensorBoard tags: train/<key> for a step's numbers, eval/<score> for an
// evaluation's (eval_ema/<score> for the weight average's).
std::map<std::string, std::map<int64_t, double>> expected_scalars(const std::string& run) {
  std::map<std::string, std::map<int64_t, double>> out;
  std::ifstream in(run + "/metrics.jsonl");
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    const int64_t it = j["iteration"].get<int64_t>();
    if (j["kind"] == "train") {
      for (const auto& [key, value] : j.items()) {
        if (value.is_number() && key != "iteration") out["train/" + key][it] = value.get<double>();
      }
    } else {
      const std::string prefix = j.value("weights", "model") == "ema" ? "eval_ema/" : "eval/";
      for (const char* score : {"mIoU", "pixel_accuracy", "mean_accuracy", "fwIoU"}) {
        if (j.contains(score) && j[score].is_number()) out[prefix + score][it] = j[score].get<double>();
      }
    }
  }
  return out;
}

nlohmann::json read_events(const std::string& run) {
  std::string output;
  const int code = testing::run_shell(
      testing::tools_python() + " " + testing::source_dir() + "/scripts/fixtures/read_tensorboard.py " + run, &output);
  EXPECT_EQ(code, 0) << output;
  return nlohmann::json::parse(output.substr(output.find('{')));
}

void expect_same_scalars(const std::string& run) {
  const auto expected = expected_scalars(run);
  const auto events = read_events(run);
  ASSERT_GE(expected.size(), 8u) << "loss, its term, lr, images/s and four scores";
  for (const auto& [tag, by_step] : expected) {
    ASSERT_TRUE(events["scalars"].contains(tag)) << tag << " missing; TensorBoard has " << events["scalars"].dump();
    std::map<int64_t, double> seen;
    for (const auto& e : events["scalars"][tag]) seen[e[0].get<int64_t>()] = e[1].get<double>();
    ASSERT_EQ(seen.size(), by_step.size()) << tag;
    for (const auto& [step, value] : by_step) {
      ASSERT_TRUE(seen.count(step)) << tag << " step " << step;
      EXPECT_NEAR(seen[step], value, 1e-6 * std::max(1.0, std::abs(value))) << tag << " step " << step;  // float32
    }
  }
}

class TensorBoard : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::tools_python_has("tensorboard")) {
      GTEST_SKIP() << testing::tools_python() << " has no tensorboard (scripts/setup.sh installs it from PyPI)";
    }
    root_ = testing::synthetic_voc(dir_, 10, 48);
  }
  testing::TempDir dir_;
  std::string root_;
};

TEST_F(TensorBoard, ItsReaderSeesWhatMetricsJsonlHolds) {
  const std::string run = dir_.path() + "/run";
  const auto result = testing::run_deeplab("train -c " + write_config(dir_, root_) + " --work-dir " + run);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  expect_same_scalars(run);
  const auto events = read_events(run);
  EXPECT_EQ(events["files"], 1);
  ASSERT_TRUE(events["scalars"].contains("train/loss/semantic"));
  ASSERT_TRUE(events["images"].contains("val_samples"));
  const auto& image = events["images"]["val_samples"].back();
  EXPECT_EQ(image[0], 6);
  EXPECT_GT(image[1].get<int>(), 40);
  EXPECT_GT(image[3].get<int>(), 100) << "a PNG of some size";
  ASSERT_TRUE(events["text"].contains("config"));
  const std::string config_text = events["text"]["config"][0][1];
  EXPECT_NE(config_text.find("max_iters: 6"), std::string::npos) << config_text;
}

TEST_F(TensorBoard, AResumedRunReplacesTheStepsItRedoes) {
  const std::string run = dir_.path() + "/run";
  const std::string config = write_config(dir_, root_);
  ASSERT_EQ(testing::run_deeplab("train -c " + config + " --work-dir " + run).exit_code, 0);
  // Back to iteration 2, then on to 6 again: steps 3..6 are logged twice, once per file.
  const auto resumed = testing::run_deeplab("train -c " + config + " --work-dir " + run + " --resume " + run +
                                            "/checkpoints/iter_0000002.ckpt");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_EQ(read_events(run)["files"], 2);
  expect_same_scalars(run);
}

TEST_F(TensorBoard, OffWritesNoEventFile) {
  const std::string run = dir_.path() + "/run";
  const auto result =
      testing::run_deeplab("train -c " + write_config(dir_, root_, "  tensorboard: false\n") + " --work-dir " + run);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  for (const auto& e : fs::directory_iterator(run)) {
    EXPECT_NE(e.path().filename().string().rfind("events.out.tfevents", 0), 0u) << e.path();
  }
}

}  // namespace
}  // namespace deeplab::train
