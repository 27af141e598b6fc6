// The commands on a GPU, end to end: `train` with runtime.device=cuda, then
// `eval` on the GPU and on the CPU (the same scores), `predict` on the GPU,
// `export` of the GPU-trained weights on the CPU and `predict --model` of the
// export on the GPU.  A request for CUDA on a build or machine without it is
// a clear error, checked everywhere.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>

#include "tests/support/json_file.h"
#include "tests/support/synthetic_data.h"
#include "tests/support/test_support.h"

namespace fs = std::filesystem;

namespace deeplab::experiment {
namespace {

std::string write_config(const testing::TempDir& dir, const std::string& root) {
  return dir.write("cuda.yaml",
                   "model:\n  arch: deeplabv3plus\n  num_classes: 21\n  backbone:\n    name: mobilenet_v2\n"
                   "data:\n  root: " +
                       root +
                       "\n  crop_size: [48, 48]\n  batch_size: 2\n  workers: 1\n"
                       "train:\n  max_iters: 4\n  lr: 0.01\n  optimizer:\n    name: adamw\n"
                       "  log_every: 1\n  eval_every: 0\n  checkpoint_every: 2\n  vis_samples: 0\n"
                       "runtime:\n  threads: 2\n  seed: 3\n  device: cuda\n  log_level: warn\n");
}

TEST(CudaCli, CudaOnAMachineWithoutItIsAClearError) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "a GPU is visible: the no-CUDA error cannot be observed";
  testing::TempDir dir;
  const std::string config = write_config(dir, testing::synthetic_voc(dir, 4, 48));
  const auto r = testing::run_deeplab("train -c " + config + " --work-dir " + dir.file("run"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("runtime.device: 'cuda' requested but CUDA is not available"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("terminate called"), std::string::npos) << r.output;
}

TEST(CudaCli, TrainEvalPredictAndExportOnTheGpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no GPU visible: the commands on CUDA not checked";
  testing::TempDir dir;
  const std::string root = testing::synthetic_voc(dir, 8, 48);
  const std::string config = write_config(dir, root), work = dir.file("run");
  auto r = testing::run_deeplab("train -c " + config + " --work-dir " + work);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string weights = work + "/final.pth";
  ASSERT_TRUE(fs::exists(weights));

  // The GPU-trained weights score the same on the GPU and on the CPU.
  r = testing::run_deeplab("eval -c " + config + " --weights " + weights + " --no-progress --json " +
                           dir.file("gpu.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = testing::run_deeplab("eval -c " + config + " --weights " + weights +
                           " --no-progress --set runtime.device=cpu --json " + dir.file("cpu.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto gpu = testing::read_json_file(dir.file("gpu.json")), cpu = testing::read_json_file(dir.file("cpu.json"));
  EXPECT_NEAR(gpu.at("mIoU").get<double>(), cpu.at("mIoU").get<double>(), 0.005);

  r = testing::run_deeplab("predict -c " + config + " --weights " + weights + " --out " + dir.file("pred") + " " +
                           root + "/JPEGImages");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_FALSE(fs::is_empty(dir.file("pred")));

  r = testing::run_deeplab("export -c " + config + " --weights " + weights + " --set runtime.device=cpu -o " +
                           dir.file("model.pt"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = testing::run_deeplab("predict --model " + dir.file("model.pt") + " --set runtime.device=cuda --out " +
                           dir.file("pred_export") + " " + root + "/JPEGImages");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_FALSE(fs::is_empty(dir.file("pred_export")));
}

}  // namespace
}  // namespace deeplab::experiment
