// Multi-process training through the real commands: `deeplab launch` with 2
// workers trains and its best.pth evaluates (in one process, and sharded
// under `deeplab launch -- eval` into one merged JSON) to the mIoU rank 0
// logged; SIGTERM to the launcher checkpoints every rank at the same
// iteration and the resumed run (dropout on) continues the same losses;
// SIGKILL or SIGSTOP of one worker ends the job quickly, naming the rank, and
// the last checkpoint resumes onto the same trajectory.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <thread>

#include "deeplab/train/checkpoint.h"
#include "tests/support/multiprocess.h"
#include "tests/support/synthetic_data.h"
#include "tests/support/test_support.h"

namespace deeplab::train {
namespace {

constexpr int kIterations = 16;

std::string write_config(const testing::TempDir& dir, const std::string& root) {
  return dir.write("dist.yaml",
                   "model:\n  arch: deeplabv3\n  backbone:\n    name: mobilenet_v3_small\n    width_mult: 0.5\n"
                   "  head:\n    channels: 16\n    dropout: 0.1\n"
                   "data:\n  root: " +
                       root +
                       "\n  crop_size: [40, 40]\n  batch_size: 2\n  workers: 0\n"
                       "train:\n  max_iters: " +
                       std::to_string(kIterations) +
                       "\n  lr: 0.02\n  optimizer:\n    name: adamw\n  log_every: 1\n  checkpoint_every: 2\n"
                       "  keep_checkpoints: 20\n  vis_samples: 2\n"
                       "runtime:\n  threads: 1\n  seed: 3\n  device: cpu\n  log_level: info\n  dist_timeout_s: 5\n");
}

std::string launch(const std::string& command) {
  return testing::binary_dir() + "/deeplab launch --nproc-per-node 2 --master-port " +
         std::to_string(testing::free_port()) + " --grace-period 2 -- " + command;
}

std::map<int64_t, double> train_losses(const std::string& work_dir) {
  std::map<int64_t, double> out;
  std::ifstream in(work_dir + "/metrics.jsonl");
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);  // a line being written
    if (!j.is_discarded() && j.value("kind", "") == "train")
      out[j["iteration"].get<int64_t>()] = j["loss"].get<double>();
  }
  return out;
}

double last_logged_miou(const std::string& work_dir) {
  double miou = -1;
  std::ifstream in(work_dir + "/metrics.jsonl");
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    if (j["kind"] == "eval") miou = j["mIoU"].get<double>();
  }
  return miou;
}

void expect_same_losses(const std::map<int64_t, double>& a, const std::map<int64_t, double>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [it, loss] : a) EXPECT_NEAR(b.at(it), loss, 1e-6) << "iteration " << it;
}

// Starts `command` in the background; calls `act(pid of the launcher, work dir)`
// once `lines` training lines are logged; returns (exit status, seconds after act, output).
struct Interrupted {
  int status = -1;
  double seconds_after = 0;
  std::string output;
};

Interrupted interrupt_after(const std::string& command, const std::string& work_dir, int lines,
                            const std::function<void(pid_t launcher)>& act) {
  const std::string out_file = work_dir + ".out";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/bin/sh", "sh", "-c", ("exec " + command + " > " + out_file + " 2>&1").c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (train_losses(work_dir).size() < static_cast<size_t>(lines) && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  act(pid);
  const auto start = std::chrono::steady_clock::now();
  Interrupted r;
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.seconds_after = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(out_file);
  r.output.assign(std::istreambuf_iterator<char>(in), {});
  return r;
}

// The pid rank `rank` logged at start (logs/rank<r>.log: "rank r of 2 (pid N, ...").
pid_t worker_pid(const std::string& work_dir, int rank) {
  std::ifstream in(work_dir + "/logs/rank" + std::to_string(rank) + ".log");
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  std::smatch match;
  if (!std::regex_search(text, match, std::regex("\\(pid ([0-9]+)"))) return -1;
  return static_cast<pid_t>(std::stol(match[1]));
}

class DistributedCli : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = write_config(dir_, testing::synthetic_voc(dir_, 12, 48));
    straight_ = dir_.path() + "/straight";
    std::string output;
    ASSERT_EQ(testing::run_shell(launch("train -c " + config_ + " --work-dir " + straight_), &output), 0) << output;
    ASSERT_EQ(train_losses(straight_).size(), static_cast<size_t>(kIterations)) << output;
  }
  std::string train(const std::string& work_dir, const std::string& extra = "") const {
    return launch("train -c " + config_ + " --work-dir " + work_dir + extra);
  }
  testing::TempDir dir_;
  std::string config_, straight_;
};

TEST_F(DistributedCli, BestWeightsEvaluateToTheLoggedMiouInOneAndTwoProcesses) {
  const double logged = last_logged_miou(straight_);
  ASSERT_GE(logged, 0);
  std::string output;
  const std::string eval = "eval -c " + config_ + " --weights " + straight_ + "/best.pth --no-progress --json ";
  ASSERT_EQ(testing::run_shell(testing::binary_dir() + "/deeplab " + eval + dir_.path() + "/one.json", &output), 0)
      << output;
  ASSERT_EQ(testing::run_shell(launch(eval + dir_.path() + "/two.json"), &output), 0) << output;
  const auto read_miou = [](const std::string& path) {
    std::ifstream in(path);
    return nlohmann::json::parse(in)["mIoU"].get<double>();
  };
  EXPECT_NEAR(read_miou(dir_.path() + "/one.json"), logged, 1e-9);
  EXPECT_NEAR(read_miou(dir_.path() + "/two.json"), logged, 1e-9);  // one merged file from 2 shards
  std::ifstream two(dir_.path() + "/two.json");
  EXPECT_EQ(nlohmann::json::parse(two)["images"].get<int64_t>(),
            nlohmann::json::parse(std::ifstream(dir_.path() + "/one.json"))["images"].get<int64_t>());
  EXPECT_TRUE(std::ifstream(straight_ + "/logs/rank1.log").good());  // every rank logs to its own file
  // TensorBoard events come from rank 0 alone: one file for the run.
  int event_files = 0;
  for (const auto& e : std::filesystem::directory_iterator(straight_)) {
    event_files += e.path().filename().string().rfind("events.out.tfevents.", 0) == 0;
  }
  EXPECT_EQ(event_files, 1);
}

TEST_F(DistributedCli, SigtermToTheLauncherCheckpointsAndResumesExactly) {
  const std::string work = dir_.path() + "/stopped";
  const auto r = interrupt_after(train(work), work, kIterations / 2, [](pid_t launcher) { ::kill(launcher, SIGTERM); });
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string checkpoint = latest_checkpoint(work + "/checkpoints");
  ASSERT_FALSE(checkpoint.empty());
  ASSERT_LT(train_losses(work).size(), static_cast<size_t>(kIterations)) << "stopped too late to test resuming";
  std::string output;
  ASSERT_EQ(testing::run_shell(train(work, " --resume"), &output), 0) << output;
  expect_same_losses(train_losses(straight_), train_losses(work));
}

TEST_F(DistributedCli, KilledOrStoppedWorkerEndsTheJobAndTheCheckpointResumes) {
  for (const int signal : {SIGKILL, SIGSTOP}) {
    const std::string work = dir_.path() + "/fault" + std::to_string(signal);
    const auto r = interrupt_after(train(work), work, 5, [&](pid_t launcher) {
      const pid_t worker = worker_pid(work, 1);
      if (worker > 0) {
        ::kill(worker, signal);
      } else {
        ::kill(launcher, SIGKILL);  // never kill(-1, ...): that would hit every process of ours
        ADD_FAILURE() << "no pid in " << work << "/logs/rank1.log";
      }
    });
    EXPECT_NE(r.status, 0) << r.output;
    // SIGKILL: at once; SIGSTOP: after runtime.dist_timeout_s (5 s) + 10 s.
    EXPECT_LT(r.seconds_after, signal == SIGKILL ? 10.0 : 15.0) << r.output;
    EXPECT_NE(r.output.find(signal == SIGKILL ? "rank 1 of 2" : "rank 1 had been stopped"), std::string::npos)
        << r.output;
    std::string output;
    ASSERT_EQ(testing::run_shell(train(work, " --resume"), &output), 0) << output;
    expect_same_losses(train_losses(straight_), train_losses(work));
  }
}

// The torchrun of the oracle's torch, the version this binary links: its
// agent serves the TCP store our ranks join, and the store's handshake
// changed between 1.13 and 2.x.  Empty when that Python has no torch.
std::string torchrun_command() {
  const std::string python = testing::oracle_python();
  if (testing::run_shell(python + " -c 'import torch.distributed.run'") != 0) return "";
  return python + " -m torch.distributed.run";
}

// Debian's torchrun (1.13 on Python 3.11) needs --redirects/--tee values
// other than its default "0", which that Python no longer parses (an enum
// change); with them it runs our binary unchanged, with its own default
// rendezvous and with --standalone, on exactly the trajectory of `deeplab launch`.
TEST_F(DistributedCli, TorchrunRunsTheSameTraining) {
  if (torchrun_command().empty()) GTEST_SKIP() << testing::oracle_python() << " has no torch.distributed.run";
  const std::string torchrun = torchrun_command() + " --redirects 2 --tee 2 --no_python --nproc_per_node 2 ";
  const std::string command = testing::binary_dir() + "/deeplab train -c " + config_ + " --work-dir ";
  std::string output;
  ASSERT_EQ(testing::run_shell(torchrun + "--master_port " + std::to_string(testing::free_port()) + " " + command +
                                   dir_.path() + "/torchrun",
                               &output),
            0)
      << output;
  expect_same_losses(train_losses(straight_), train_losses(dir_.path() + "/torchrun"));
  ASSERT_EQ(testing::run_shell(torchrun + "--standalone " + command + dir_.path() + "/standalone", &output), 0)
      << output;
  expect_same_losses(train_losses(straight_), train_losses(dir_.path() + "/standalone"));
}

// torchrun's elastic agent restarts the workers after one is killed; the new
// workers (TORCHELASTIC_RESTART_COUNT=1) resume from the newest checkpoint by
// themselves and finish on the straight run's trajectory.
TEST_F(DistributedCli, TorchrunElasticRestartResumesByItself) {
  if (torchrun_command().empty()) GTEST_SKIP() << testing::oracle_python() << " has no torch.distributed.run";
  const std::string work = dir_.path() + "/elastic";
  const std::string command = torchrun_command() +
                              " --redirects 2 --tee 2 --max_restarts 1 --no_python --nproc_per_node 2 "
                              "--master_port " +
                              std::to_string(testing::free_port()) + " " + testing::binary_dir() +
                              "/deeplab train -c " + config_ + " --work-dir " + work;
  bool killed = false;
  const auto r = interrupt_after(command, work, 5, [&](pid_t) {
    const pid_t worker = worker_pid(work, 1);
    killed = worker > 0 && ::kill(worker, SIGKILL) == 0;
  });
  ASSERT_TRUE(killed) << r.output;
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("elastic restart 1"), std::string::npos) << r.output;
  expect_same_losses(train_losses(straight_), train_losses(work));
}

}  // namespace
}  // namespace deeplab::train
