// A resume that fails changes nothing in the run directory (config.yaml, the
// log, the checkpoints: every byte), and the automatic --resume falls back to
// the newest checkpoint that reads, naming each one it skipped and keeping it.
// A resume that succeeds with changed settings keeps the previous config.

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "deeplab/core/fs_util.h"
#include "tests/support/synthetic_data.h"
#include "tests/support/test_support.h"

namespace deeplab::train {
namespace {
namespace fs = std::filesystem;

std::string config_text(const std::string& root, const std::string& backbone, int max_iters) {
  return "model:\n  arch: deeplabv3\n  backbone:\n    name: " + backbone + "\ndata:\n  root: " + root +
         "\n  crop_size: [48, 48]\n  batch_size: 2\n  workers: 0\ntrain:\n  max_iters: " + std::to_string(max_iters) +
         "\n  lr: 0.01\n  log_every: 1\n  checkpoint_every: 2\n  vis_samples: 0\n"
         "runtime:\n  threads: 2\n  seed: 3\n  device: cpu\n  log_level: info\n";
}

// Every file under `dir` by relative path, with its bytes.
std::map<std::string, std::string> snapshot(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file())
      files[fs::relative(entry.path(), dir).string()] = core::read_file(entry.path().string());
  }
  return files;
}

void expect_unchanged(const std::map<std::string, std::string>& before, const std::string& dir) {
  const auto after = snapshot(dir);
  for (const auto& [name, bytes] : after) {
    const auto it = before.find(name);
    if (it == before.end()) {
      ADD_FAILURE() << "a failed resume wrote " << name;
    } else {
      EXPECT_TRUE(it->second == bytes) << "a failed resume changed " << name;
    }
  }
  for (const auto& [name, bytes] : before) EXPECT_TRUE(after.count(name)) << "a failed resume removed " << name;
}

void cut_to_a_third(const std::string& path) {
  const std::string bytes = core::read_file(path);
  core::write_file_atomic(path, bytes.substr(0, bytes.size() / 3));
}

// One 4-iteration run (checkpoints at 2 and 4) trained once; each test
// works on its own copy.
class FailedResume : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_ = new testing::TempDir;
    const std::string root = testing::synthetic_voc(*data_, 8, 48);
    config_ = data_->write("run.yaml", config_text(root, "mobilenet_v3_small", 4));
    config_longer_ = data_->write("longer.yaml", config_text(root, "mobilenet_v3_small", 6));
    config_other_model_ = data_->write("other.yaml", config_text(root, "mobilenet_v3_large", 6));
    const auto r = testing::run_deeplab("train -c " + config_ + " --work-dir " + data_->path() + "/trained");
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  static void TearDownTestSuite() {
    delete data_;
    data_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(fs::exists(data_->path() + "/trained/checkpoints/iter_0000004.ckpt"));
    fs::copy(data_->path() + "/trained", run_dir(), fs::copy_options::recursive);
  }
  std::string run_dir() const { return work_.path() + "/run"; }
  std::string checkpoint(int iteration) const {
    return run_dir() + "/checkpoints/iter_000000" + std::to_string(iteration) + ".ckpt";
  }

  static testing::TempDir* data_;
  static std::string config_, config_longer_, config_other_model_;
  testing::TempDir work_;
};
testing::TempDir* FailedResume::data_ = nullptr;
std::string FailedResume::config_, FailedResume::config_longer_, FailedResume::config_other_model_;

TEST_F(FailedResume, FromACheckpointCutShortChangesNothing) {
  cut_to_a_third(checkpoint(4));
  const auto before = snapshot(run_dir());
  const auto r =
      testing::run_deeplab("train -c " + config_longer_ + " --work-dir " + run_dir() + " --resume " + checkpoint(4));
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(checkpoint(4) + "' cannot be read"), std::string::npos) << r.output;
  expect_unchanged(before, run_dir());
}

TEST_F(FailedResume, WithAnotherModelChangesNothingAndNamesTheTensorsAndTheRunsConfig) {
  const auto before = snapshot(run_dir());
  const auto r = testing::run_deeplab("train -c " + config_other_model_ + " --work-dir " + run_dir() + " --resume");
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("was saved by another model than this config builds"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("model.backbone."), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(run_dir() + "/config.yaml"), std::string::npos) << r.output;
  expect_unchanged(before, run_dir());
}

TEST_F(FailedResume, NoReadableCheckpointIsAnErrorNamingEachAndChangesNothing) {
  core::write_file_atomic(checkpoint(4), "not a checkpoint at all");
  cut_to_a_third(checkpoint(2));
  const auto before = snapshot(run_dir());
  const auto r = testing::run_deeplab("train -c " + config_longer_ + " --work-dir " + run_dir() + " --resume");
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("none of the 2 checkpoint(s)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(checkpoint(4)), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(checkpoint(2)), std::string::npos) << r.output;
  expect_unchanged(before, run_dir());
}

// The garbage newest checkpoint is skipped with a warning and left in place;
// the run continues from iteration 2 (its metrics go on at 3).
TEST_F(FailedResume, AutomaticResumeFallsBackToTheNewestReadableCheckpoint) {
  core::write_file_atomic(checkpoint(4), "garbage");
  const auto r =
      testing::run_deeplab("train -c " + config_ + " --set train.max_iters=3 --work-dir " + run_dir() + " --resume");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("--resume skips " + checkpoint(4)), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("resumed from " + checkpoint(2) + " at iteration 2"), std::string::npos) << r.output;
  EXPECT_EQ(core::read_file(checkpoint(4)), "garbage");
  EXPECT_NE(core::read_file(run_dir() + "/log.txt").find("--resume skips " + checkpoint(4)), std::string::npos)
      << "the warning, logged before the run directory was touched, reaches log.txt";
}

TEST_F(FailedResume, SuccessfulResumeWithChangedSettingsKeepsThePreviousConfig) {
  const std::string first = core::read_file(run_dir() + "/config.yaml");
  const auto r = testing::run_deeplab("train -c " + config_longer_ + " --work-dir " + run_dir() + " --resume");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(core::read_file(run_dir() + "/config.1.yaml"), first);
  EXPECT_NE(core::read_file(run_dir() + "/config.yaml").find("max_iters: 6"), std::string::npos);
  EXPECT_NE(first.find("max_iters: 4"), std::string::npos);
  // The same settings again: nothing more to keep.
  const auto again = testing::run_deeplab("train -c " + config_longer_ + " --work-dir " + run_dir() + " --resume");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_FALSE(fs::exists(run_dir() + "/config.2.yaml"));
}

}  // namespace
}  // namespace deeplab::train
