// Exact resume through the real command: 2N iterations straight vs N, SIGTERM,
// --resume, the rest -> the same loss at every iteration and the same final
// weights (1e-6), with 0 and with 2 loader workers.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <fstream>
#include <map>

#include "deeplab/weights/pth_reader.h"
#include "tests/support/synthetic_data.h"
#include "tests/support/test_support.h"

namespace deeplab::train {
namespace {

constexpr int kIterations = 12;

std::string write_config(const testing::TempDir& dir, const std::string& root, int workers) {
  return dir.write("resume.yaml",
                   "model:\n  arch: deeplabv3\n  backbone:\n    name: mobilenet_v3_small\n"
                   "data:\n  root: " +
                       root + "\n  crop_size: [48, 48]\n  batch_size: 2\n  workers: " + std::to_string(workers) +
                       "\ntrain:\n  max_iters: " + std::to_string(kIterations) +
                       "\n  lr: 0.01\n  optimizer:\n    name: adamw\n  schedule:\n    warmup_iters: 3\n"
                       "  log_every: 1\n  checkpoint_every: 1000\n  vis_samples: 0\n"
                       "runtime:\n  threads: 2\n  seed: 3\n  device: cpu\n  log_level: warn\n");
}

std::map<int64_t, double> losses(const std::string& work_dir) {
  std::map<int64_t, double> out;
  std::ifstream in(work_dir + "/metrics.jsonl");
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    if (j["kind"] == "train") out[j["iteration"].get<int64_t>()] = j["loss"].get<double>();
  }
  return out;
}

class ExactResume : public ::testing::TestWithParam<int> {};

TEST_P(ExactResume, StopAndResumeEqualsStraightRun) {
  testing::TempDir dir;
  const std::string config = write_config(dir, testing::synthetic_voc(dir, 16, 48), GetParam());
  const std::string straight = dir.path() + "/straight", resumed = dir.path() + "/resumed";
  const std::string deeplab = testing::binary_dir() + "/deeplab";
  std::string output;
  ASSERT_EQ(testing::run_shell(deeplab + " train -c " + config + " --work-dir " + straight, &output), 0) << output;

  // Stop with SIGTERM once half the iterations are logged; it must exit 0.
  const std::string stop_script = deeplab + " train -c " + config + " --work-dir " + resumed + " & pid=$!; " +
                                  "while [ \"$(cat " + resumed + "/metrics.jsonl 2>/dev/null | grep -c train)\" -lt " +
                                  std::to_string(kIterations / 2) + " ]; do sleep 0.02; done; kill -TERM $pid; " +
                                  "wait $pid";
  ASSERT_EQ(testing::run_shell(stop_script, &output), 0) << output;
  EXPECT_NE(output.find("--resume"), std::string::npos) << output;
  ASSERT_LT(losses(resumed).size(), static_cast<size_t>(kIterations)) << "the stop came too late to test resuming";
  ASSERT_EQ(testing::run_shell(deeplab + " train -c " + config + " --work-dir " + resumed + " --resume", &output), 0)
      << output;

  const auto a = losses(straight), b = losses(resumed);
  ASSERT_EQ(a.size(), static_cast<size_t>(kIterations));
  ASSERT_EQ(b.size(), a.size());
  for (const auto& [it, loss] : a) EXPECT_NEAR(b.at(it), loss, 1e-6) << "iteration " << it;
  const auto wa = weights::read_state_dict(straight + "/final.pth");
  const auto wb = weights::read_state_dict(resumed + "/final.pth");
  ASSERT_EQ(wa.size(), wb.size());
  for (size_t i = 0; i < wa.size(); ++i) {
    EXPECT_EQ(wa[i].first, wb[i].first);
    EXPECT_LE((wa[i].second.to(torch::kDouble) - wb[i].second.to(torch::kDouble)).abs().max().item<double>(), 1e-6)
        << wa[i].first;
  }
}

INSTANTIATE_TEST_SUITE_P(Workers, ExactResume, ::testing::Values(0, 2),
                         [](const auto& info) { return "workers" + std::to_string(info.param); });

}  // namespace
}  // namespace deeplab::train
