// Faults while files are written, on the real binary: a full disk (a file-size
// limit set with prlimit, which the tool turns from SIGXFSZ into EFBIG) while
// a checkpoint, an export or predictions are written gives a clear error that
// names the file, leaves no partial file, and keeps the previous checkpoint
// loadable; SIGKILL in the middle of a checkpoint write leaves the previous
// checkpoint to resume from, and the next run removes the killed write's
// temporary file.

#include <gtest/gtest.h>
#include <opencv2/videoio.hpp>

#include <filesystem>
#include <string>

#include "deeplab/core/fs_util.h"
#include "deeplab/data/sample_io.h"
#include "tests/support/synthetic_data.h"
#include "tests/support/test_support.h"

namespace deeplab::train {
namespace {
namespace fs = std::filesystem;

std::string config_text(const std::string& root, int max_iters) {
  return "model:\n  arch: deeplabv3\n  backbone:\n    name: mobilenet_v3_small\ndata:\n  root: " + root +
         "\n  crop_size: [48, 48]\n  batch_size: 2\n  workers: 0\ntrain:\n  max_iters: " + std::to_string(max_iters) +
         "\n  lr: 0.01\n  log_every: 1\n  checkpoint_every: 2\n  vis_samples: 0\n"
         "runtime:\n  threads: 2\n  seed: 3\n  device: cpu\n  log_level: info\n";
}

// Files whose names show an unfinished write (`*.tmp<pid>`, `*.partial.*`).
std::vector<std::string> unfinished_files(const std::string& dir) {
  std::vector<std::string> found;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.find(".tmp") != std::string::npos || name.find(".partial") != std::string::npos) {
      found.push_back(entry.path().string());
    }
  }
  return found;
}

std::string with_file_size_limit(uintmax_t bytes, const std::string& deeplab_args) {
  return "prlimit --fsize=" + std::to_string(bytes) + " " + testing::binary_dir() + "/deeplab " + deeplab_args;
}

// A 4-iteration run (checkpoints at 2 and 4) trained once; each test works on a copy.
class DiskFaults : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_ = new testing::TempDir;
    root_ = testing::synthetic_voc(*data_, 8, 48);
    config_ = data_->write("run.yaml", config_text(root_, 4));
    longer_ = data_->write("longer.yaml", config_text(root_, 8));
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
  // Resuming the copy automatically, on to iteration 8, succeeds from iteration 4.
  void expect_resumes_from_iteration_4() const {
    const auto r = testing::run_deeplab("train -c " + longer_ + " --work-dir " + run_dir() + " --resume");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("resumed from " + checkpoint(4) + " at iteration 4"), std::string::npos) << r.output;
    EXPECT_TRUE(fs::exists(checkpoint(8)));
    EXPECT_TRUE(unfinished_files(run_dir()).empty()) << unfinished_files(run_dir()).front();
  }

  static testing::TempDir* data_;
  static std::string root_, config_, longer_;
  testing::TempDir work_;
};
testing::TempDir* DiskFaults::data_ = nullptr;
std::string DiskFaults::root_, DiskFaults::config_, DiskFaults::longer_;

TEST_F(DiskFaults, FullDiskWhileCheckpointingIsAClearErrorAndThePreviousCheckpointLoads) {
  const std::string before = core::read_file(checkpoint(4));
  std::string output;
  const int code = testing::run_shell(
      with_file_size_limit(before.size() / 2, "train -c " + longer_ + " --work-dir " + run_dir() + " --resume"),
      &output);
  EXPECT_EQ(code, 1) << output;
  EXPECT_NE(output.find("error: cannot write '" + checkpoint(6) + "': File too large (the disk is full"),
            std::string::npos)
      << output;
  EXPECT_FALSE(fs::exists(checkpoint(6)));
  EXPECT_TRUE(unfinished_files(run_dir()).empty()) << unfinished_files(run_dir()).front();
  EXPECT_TRUE(core::read_file(checkpoint(4)) == before) << "the previous checkpoint changed";
  expect_resumes_from_iteration_4();
}

TEST_F(DiskFaults, SigkillInTheMiddleOfACheckpointWriteLeavesThePreviousOneToResumeFrom) {
  // The binary stops itself (SIGSTOP) 1 MB into its first write of more than
  // 1 MB (the checkpoint of iteration 6); the script then kills it.
  const std::string script =
      "DEEPLAB_FAULT_STOP_IN_WRITE=1000000 " + testing::binary_dir() + "/deeplab train -c " + longer_ + " --work-dir " +
      run_dir() + " --resume > " + work_.file("train.log") +
      " 2>&1 & pid=$!\n"
      "for i in $(seq 1200); do\n"
      "  [ \"$(awk '{print $3}' /proc/$pid/stat 2>/dev/null)\" = T ] && break; sleep 0.1\n"
      "done\n"
      "echo \"state $(awk '{print $3}' /proc/$pid/stat)\"; kill -KILL $pid; wait $pid; echo \"exit $?\"\n";
  std::string output;
  ASSERT_EQ(testing::run_shell("bash " + work_.write("kill_mid_write.sh", script), &output), 0) << output;
  ASSERT_NE(output.find("state T"), std::string::npos) << "the write never stopped: " << output << "\n"
                                                       << core::read_file(work_.file("train.log"));
  EXPECT_NE(output.find("exit 137"), std::string::npos) << output;
  // What a kill -9 leaves: the temporary file of the write, cut at 1 MB; no iter_6.
  const auto left = unfinished_files(run_dir());
  ASSERT_EQ(left.size(), 1u) << output;
  EXPECT_EQ(fs::path(left[0]).filename().string().rfind("iter_0000006.ckpt.tmp", 0), 0u) << left[0];
  EXPECT_EQ(fs::file_size(left[0]), 1000000u);
  EXPECT_FALSE(fs::exists(checkpoint(6)));
  expect_resumes_from_iteration_4();  // and the temporary file is gone
}

TEST_F(DiskFaults, FullDiskWhileExportingKeepsTheEarlierExport) {
  const std::string model = work_.file("model.pt");
  const std::string export_args = "export -c " + config_ + " --weights " + run_dir() + "/final.pth -o " + model;
  auto r = testing::run_deeplab(export_args);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string before = core::read_file(model);
  std::string output;
  EXPECT_EQ(testing::run_shell(with_file_size_limit(before.size() / 2, export_args), &output), 1) << output;
  EXPECT_NE(output.find("error: cannot write '" + model + "'"), std::string::npos) << output;
  EXPECT_NE(output.find("disk is full"), std::string::npos) << output;
  EXPECT_TRUE(core::read_file(model) == before) << "the earlier export changed";
  EXPECT_TRUE(unfinished_files(work_.path()).empty()) << unfinished_files(work_.path()).front();
}

TEST_F(DiskFaults, FullDiskWhilePredictingIsAClearErrorAndLeavesNoPartialImage) {
  const std::string model = work_.file("model.pt");
  auto r = testing::run_deeplab("export -c " + config_ + " --weights " + run_dir() + "/final.pth -o " + model);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // 48x48 predictions: the label PNGs are ~100 bytes, the overlays several KB.
  const std::string out = work_.path() + "/pred";
  std::string output;
  EXPECT_EQ(testing::run_shell(with_file_size_limit(2000, "predict --model " + model + " " + root_ +
                                                              "/JPEGImages --out " + out + " --overlay --no-progress"),
                               &output),
            1)
      << output;
  EXPECT_NE(output.find("_overlay.png': File too large (the disk is full"), std::string::npos) << output;
  ASSERT_TRUE(fs::is_directory(out));
  EXPECT_TRUE(unfinished_files(out).empty()) << unfinished_files(out).front();
  for (const auto& entry : fs::recursive_directory_iterator(out)) {  // what was written is whole
    if (!entry.is_regular_file()) continue;
    EXPECT_EQ(data::image_cut_short(core::read_file(entry.path().string())), "") << entry.path();
  }
}

TEST_F(DiskFaults, FullDiskWhileWritingAVideoPredictionIsAClearError) {
  const std::string model = work_.file("model.pt");
  auto r = testing::run_deeplab("export -c " + config_ + " --weights " + run_dir() + "/final.pth -o " + model);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string clip = work_.file("clip.avi");
  {
    cv::VideoWriter writer(clip, cv::VideoWriter::fourcc('F', 'F', 'V', '1'), 10, cv::Size(96, 64), true);
    ASSERT_TRUE(writer.isOpened());
    cv::RNG rng(1);
    for (int i = 0; i < 12; ++i) {
      cv::Mat frame(64, 96, CV_8UC3);
      rng.fill(frame, cv::RNG::UNIFORM, 0, 256);
      writer.write(frame);
    }
  }
  // The overlay of the noisy input needs ~200 KB (the flat colours alone compress to a few KB).
  const std::string out = work_.path() + "/video";
  std::string output;
  EXPECT_EQ(testing::run_shell(with_file_size_limit(20000, "predict --model " + model + " " + clip + " --out " + out +
                                                               " --overlay --no-progress"),
                               &output),
            1)
      << output;
  EXPECT_NE(output.find("cannot write '" + out + "/clip_overlay.avi': the video holds"), std::string::npos) << output;
  EXPECT_NE(output.find("of its 12 frames (is the disk full?)"), std::string::npos) << output;
  EXPECT_FALSE(fs::exists(out + "/clip_color.avi"));
  EXPECT_FALSE(fs::exists(out + "/clip_overlay.avi"));
  EXPECT_TRUE(unfinished_files(out).empty()) << unfinished_files(out).front();
}

}  // namespace
}  // namespace deeplab::train
