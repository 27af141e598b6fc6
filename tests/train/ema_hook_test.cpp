// train.ema end to end through `deeplab train`: the average is evaluated
// beside the weights (metrics.jsonl lines with "weights": "ema"), written as
// best_ema.pth and final_ema.pth, and a run resumed from a checkpoint ends
// with the very average of the run that never stopped.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "deeplab/weights/pth_reader.h"
#include "deeplab/weights/state_dict.h"
#include "tests/support/synthetic_data.h"
#include "tests/support/test_support.h"

namespace deeplab::train {
namespace {

namespace fs = std::filesystem;

std::string write_config(const testing::TempDir& dir, const std::string& root) {
  return dir.write("ema.yaml",
                   "model:\n  arch: deeplabv3\n  num_classes: 7\n  backbone:\n    name: mobilenet_v3_small\n"
                   "    width_mult: 0.5\n  head:\n    channels: 16\n"
                   "data:\n  descriptor: datasets/synthetic_voc.yaml\n  root: " +
                       root +
                       "\n  crop_size: [40, 40]\n  batch_size: 2\n  workers: 0\n"
                       "train:\n  max_iters: 6\n  lr: 0.02\n  log_every: 3\n  checkpoint_every: 3\n  eval_every: 3\n"
                       "  keep_checkpoints: 10\n  vis_samples: 0\n  tensorboard: false\n"
                       "  ema:\n    enabled: true\n    decay: 0.6\n    start_iter: 1\n"
                       "runtime:\n  threads: 1\n  seed: 3\n  device: cpu\n");
}

bool same_tensors(const std::string& a, const std::string& b) {
  const auto x = weights::read_state_dict(a), y = weights::read_state_dict(b);
  if (x.size() != y.size()) return false;
  for (size_t i = 0; i < x.size(); ++i) {
    if (x[i].first != y[i].first || !torch::equal(x[i].second, y[i].second)) return false;
  }
  return true;
}

class Ema : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = write_config(dir_, testing::synthetic_voc(dir_, 10, 48));
    run_ = dir_.path() + "/run";
    const auto result = testing::run_deeplab("train -c " + config_ + " --work-dir " + run_);
    ASSERT_EQ(result.exit_code, 0) << result.output;
  }
  testing::TempDir dir_;
  std::string config_, run_;
};

TEST_F(Ema, EvaluatedAndSavedBesideTheWeights) {
  for (const char* file : {"best.pth", "final.pth", "best_ema.pth", "final_ema.pth"}) {
    EXPECT_TRUE(fs::is_regular_file(run_ + "/" + file)) << file;
  }
  EXPECT_FALSE(same_tensors(run_ + "/final.pth", run_ + "/final_ema.pth"));
  std::map<std::string, std::vector<int64_t>> evaluations;
  std::ifstream in(run_ + "/metrics.jsonl");
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    if (j["kind"] == "eval") evaluations[j["weights"].get<std::string>()].push_back(j["iteration"].get<int64_t>());
  }
  EXPECT_EQ(evaluations["model"], (std::vector<int64_t>{3, 6}));
  EXPECT_EQ(evaluations["ema"], (std::vector<int64_t>{3, 6}));
}

TEST_F(Ema, AResumedRunEndsWithTheSameAverage) {
  const std::string resumed = dir_.path() + "/resumed";
  const auto result = testing::run_deeplab("train -c " + config_ + " --work-dir " + resumed + " --resume " + run_ +
                                           "/checkpoints/iter_0000003.ckpt");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_TRUE(same_tensors(run_ + "/final.pth", resumed + "/final.pth"));
  EXPECT_TRUE(same_tensors(run_ + "/final_ema.pth", resumed + "/final_ema.pth"));
}

}  // namespace
}  // namespace deeplab::train
