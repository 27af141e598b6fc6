// `deeplab launch`'s supervisor with shell scripts as workers: the torchrun
// environment each worker gets, a killed worker ending the job at once with
// its rank, exit status and last lines named, a worker that ignores SIGTERM
// or is stopped still being ended, and bad flags named.

#include "deeplab/core/launcher.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "deeplab/core/error.h"
#include "deeplab/core/stop_signal.h"
#include "tests/support/test_support.h"

namespace deeplab::core {
namespace {

LaunchOptions shell_workers(const std::string& script, int n = 2) {
  LaunchOptions o;
  o.nproc_per_node = n;
  o.master_port = 29999;
  o.program = "/bin/sh";
  o.arguments = {"-c", script};
  o.grace_seconds = 1;
  return o;
}

struct Launched {
  int status = 0;
  double seconds = 0;
  std::string errors;
};

Launched launch(const LaunchOptions& o) {
  ::testing::internal::CaptureStderr();
  const auto start = std::chrono::steady_clock::now();
  Launched r;
  r.status = launch_workers(o);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.errors = ::testing::internal::GetCapturedStderr();
  return r;
}

TEST(Launcher, WorkersGetTheTorchrunEnvironment) {
  testing::TempDir dir;
  LaunchOptions o = shell_workers("echo $RANK $WORLD_SIZE $LOCAL_RANK $LOCAL_WORLD_SIZE $MASTER_ADDR $MASTER_PORT > " +
                                  dir.path() + "/rank$RANK");
  o.nnodes = 2;
  o.node_rank = 1;
  o.master_addr = "10.0.0.1";
  EXPECT_EQ(launch(o).status, 0);
  for (int local = 0; local < 2; ++local) {
    std::ifstream in(dir.path() + "/rank" + std::to_string(2 + local));
    std::string line;
    std::getline(in, line);
    EXPECT_EQ(line, std::to_string(2 + local) + " 4 " + std::to_string(local) + " 2 10.0.0.1 29999");
  }
}

TEST(Launcher, AKilledWorkerEndsTheJobNamingItsRank) {
  // Rank 1 prints, then dies by SIGKILL; rank 0 would run for a minute.
  const auto r =
      launch(shell_workers("if [ $RANK = 1 ]; then echo 'loss 0.5 at step 3'; sleep 0.3; kill -9 $$; fi; sleep 20"));
  EXPECT_EQ(r.status, 1);
  EXPECT_LT(r.seconds, 10);
  EXPECT_NE(r.errors.find("rank 1 of 2"), std::string::npos) << r.errors;
  EXPECT_NE(r.errors.find("signal 9"), std::string::npos) << r.errors;
  EXPECT_NE(r.errors.find("loss 0.5 at step 3"), std::string::npos) << r.errors;  // its last lines
}

TEST(Launcher, ExitStatusIsNamedAndStubbornWorkersAreKilled) {
  // Rank 0 ignores SIGTERM: after the grace period it gets SIGKILL.
  const auto r = launch(shell_workers("if [ $RANK = 1 ]; then sleep 0.3; exit 3; fi; trap '' TERM; sleep 20"));
  EXPECT_EQ(r.status, 1);
  EXPECT_LT(r.seconds, 10);
  EXPECT_NE(r.errors.find("rank 1 of 2"), std::string::npos) << r.errors;
  EXPECT_NE(r.errors.find("exit status 3"), std::string::npos) << r.errors;
}

TEST(Launcher, AStoppedWorkerIsNamedWhenItsPeerGivesUp) {
  // Rank 1 stops itself; rank 0 "times out" waiting for it and fails.
  const auto r = launch(shell_workers("if [ $RANK = 1 ]; then kill -STOP $$; sleep 20; fi; sleep 1; exit 1"));
  EXPECT_EQ(r.status, 1);
  EXPECT_LT(r.seconds, 10);
  EXPECT_NE(r.errors.find("rank 0 of 2"), std::string::npos) << r.errors;
  EXPECT_NE(r.errors.find("rank 1 had been stopped"), std::string::npos) << r.errors;
}

TEST(Launcher, BadFlagsAreNamed) {
  LaunchOptions o = shell_workers("true");
  o.node_rank = 2;
  try {
    check_launch_options(o);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--node-rank 2"), std::string::npos) << e.what();
  }
  o = shell_workers("true");
  o.arguments.clear();
  EXPECT_THROW(check_launch_options(o), ConfigError);
}

std::string error_of(const LaunchOptions& o) {
  try {
    check_launch_options(o);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

// A count the machine cannot serve is refused before anything starts, with
// the limit and the reason.
TEST(Launcher, RefusesMoreWorkersThanTheMachineServes) {
  LaunchOptions o = shell_workers("true", max_cpu_workers() + 1);
  EXPECT_NE(error_of(o).find("limited to " + std::to_string(kCpuWorkersPerCore) + " per core"), std::string::npos)
      << error_of(o);
  EXPECT_NE(error_of(o).find(std::to_string(max_cpu_workers()) + " here"), std::string::npos) << error_of(o);
  o.nproc_per_node = 100000;
  EXPECT_NE(error_of(o).find("--nproc-per-node 100000"), std::string::npos);
  o = shell_workers("true", 3);
  o.gpus = 2;
  EXPECT_NE(error_of(o).find("has 2 GPU(s); one worker per GPU, so at most 2"), std::string::npos) << error_of(o);
  o.gpus = 0;
  EXPECT_NE(error_of(o).find("no GPU is visible"), std::string::npos) << error_of(o);
  o.nproc_per_node = max_cpu_workers();
  o.gpus = -1;
  EXPECT_EQ(error_of(o), "");
}

// No worker of the job is left running or unreaped (no orphans, no zombies).
void expect_no_worker_left(const std::vector<pid_t>& started) {
  for (const pid_t pid : started) {
    EXPECT_NE(::kill(pid, 0), 0) << "worker " << pid << " still exists";
    // Its children got SIGKILL with it; init reaps them a moment later.
    for (int i = 0; i < 300 && ::kill(-pid, 0) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_NE(::kill(-pid, 0), 0) << "a process the worker " << pid << " started still exists";
  }
  errno = 0;
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1) << "a child is left";
  EXPECT_EQ(errno, ECHILD);
}

TEST(Launcher, AFailedForkEndsTheJobCleanly) {
  LaunchOptions o = shell_workers("trap '' TERM; sleep 30", 4);
  int forks = 0;
  o.fork = [&forks]() -> pid_t {
    if (++forks == 3) {
      errno = EAGAIN;
      return -1;
    }
    return ::fork();
  };
  std::vector<pid_t> started;
  o.after_start = [&started](int, pid_t pid) { started.push_back(pid); };
  const auto r = launch(o);
  EXPECT_EQ(r.status, 1);
  EXPECT_LT(r.seconds, o.grace_seconds + 4);
  EXPECT_EQ(started.size(), 2u);
  EXPECT_NE(
      r.errors.find("fork: Resource temporarily unavailable while starting worker 2 of 4; the 2 started were stopped"),
      std::string::npos)
      << r.errors;
  expect_no_worker_left(started);
}

// SIGTERM to the launcher while it is still starting workers: no more are
// started, and those running (here ignoring SIGTERM) end within the grace period.
TEST(Launcher, AStopWhileStartingEndsEveryWorkerWithinTheGracePeriod) {
  LaunchOptions o = shell_workers("trap '' TERM; sleep 30", 8);
  std::vector<pid_t> started;
  o.after_start = [&started](int local, pid_t pid) {
    started.push_back(pid);
    if (local != 1) return;
    ::kill(::getpid(), SIGTERM);
    for (int i = 0; i < 200 && !stop_requested(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  };
  const auto r = launch(o);
  EXPECT_EQ(r.status, 1);
  EXPECT_LT(r.seconds, o.grace_seconds + 4);
  EXPECT_EQ(started.size(), 2u);
  EXPECT_NE(r.errors.find("stop requested while starting worker 2 of 8"), std::string::npos) << r.errors;
  expect_no_worker_left(started);
}

}  // namespace
}  // namespace deeplab::core
