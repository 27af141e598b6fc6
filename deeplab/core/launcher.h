#pragma once
// `deeplab launch`: starts the worker processes of one machine of a
// multi-process job with the torchrun environment (RANK, WORLD_SIZE,
// LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT) and supervises them:
//   - every worker's output is read line by line: rank 0's is echoed as is,
//     the others' with a "[rank r]" prefix, and the last lines of each are kept;
//   - SIGINT/SIGTERM to the launcher are forwarded to every worker (training
//     then checkpoints at the same iteration on all ranks and exits 0);
//   - when a worker fails (non-zero exit or a signal), the others get SIGTERM
//     then, after a grace period, SIGKILL (a stopped process ignores SIGTERM),
//     and the launcher exits non-zero naming the rank, how it ended and its
//     last lines;
//   - workers die with the launcher (PR_SET_PDEATHSIG).

#include <sys/types.h>
#include <unistd.h>

#include <functional>
#include <string>
#include <vector>

namespace deeplab::core {

struct LaunchOptions {
  int nproc_per_node = 1;
  int nnodes = 1;
  int node_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::string program;                 // the worker executable (this binary)
  std::vector<std::string> arguments;  // its arguments ("train -c ...")
  double grace_seconds = 5;            // SIGTERM -> SIGKILL
  int tail_lines = 20;                 // last lines shown of a failed worker
  int gpus = -1;                       // GPUs the workers share (-1: CPU workers)
  // Seams for tests: how a worker process is made (::fork), and a call after
  // each one started with its local rank and pid.
  std::function<pid_t()> fork = [] { return ::fork(); };
  std::function<void(int, pid_t)> after_start;
};

/// CPU workers one machine may run: kCpuWorkersPerCore per core this
/// process may use.  More would only time-share the cores (each worker
/// runs runtime.threads threads of its own) and can exhaust the process table.
constexpr int kCpuWorkersPerCore = 4;
int max_cpu_workers();

/// Checks the options; ConfigError naming the flag at fault, and the limit
/// when --nproc-per-node asks for more workers than the machine can serve
/// (one per GPU on CUDA; max_cpu_workers() on the CPU).
void check_launch_options(const LaunchOptions& options);

/// Runs the workers to the end; returns the launcher's exit status (0 when
/// every worker exited 0).  Reports a failure on stderr.  A worker that
/// cannot be started (fork fails) or a SIGINT/SIGTERM while workers are
/// still being started ends the workers already running (SIGTERM, SIGKILL
/// after the grace period), reaps every one, and returns non-zero.
int launch_workers(const LaunchOptions& options);

/// "exit status 3" / "signal 9 (Killed)" for a waitpid() status.
std::string describe_exit(int wait_status);

}  // namespace deeplab::core
