#include "deeplab/core/launcher.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <iostream>
#include <thread>

#include "deeplab/core/error.h"
#include "deeplab/core/stop_signal.h"

namespace deeplab::core {
namespace {

struct Worker {
  int rank = 0, local_rank = 0;
  pid_t pid = -1;
  int output = -1;  // read end of the pipe holding its stdout + stderr
  std::string partial;
  std::deque<std::string> tail;
  bool running = true;
  int status = 0;
  int ended = 0;         // order in which workers ended (1 = first)
  bool stopped = false;  // SIGSTOP/SIGTSTP: its peers will time out waiting for it
};

std::vector<std::pair<std::string, std::string>> worker_env(const LaunchOptions& o, int local_rank) {
  const int world = o.nnodes * o.nproc_per_node;
  return {{"RANK", std::to_string(o.node_rank * o.nproc_per_node + local_rank)},
          {"WORLD_SIZE", std::to_string(world)},
          {"LOCAL_RANK", std::to_string(local_rank)},
          {"LOCAL_WORLD_SIZE", std::to_string(o.nproc_per_node)},
          {"GROUP_RANK", std::to_string(o.node_rank)},
          {"MASTER_ADDR", o.master_addr},
          {"MASTER_PORT", std::to_string(o.master_port)}};
}

[[noreturn]] void exec_worker(const LaunchOptions& o, int local_rank, int pipe_write) {
  ::dup2(pipe_write, STDOUT_FILENO);
  ::dup2(pipe_write, STDERR_FILENO);
  ::close(pipe_write);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the launcher
  ::setpgid(0, 0);                     // its own process group: a stop reaches what it started too (see signal_worker)
  sigset_t all;
  sigemptyset(&all);
  sigaddset(&all, SIGINT);
  sigaddset(&all, SIGTERM);
  ::sigprocmask(SIG_UNBLOCK, &all, nullptr);  // the launcher blocks them for its sigwait thread
  for (const auto& [name, value] : worker_env(o, local_rank)) ::setenv(name.c_str(), value.c_str(), 1);
  std::vector<char*> argv{const_cast<char*>(o.program.c_str())};
  for (const auto& a : o.arguments) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execv(o.program.c_str(), argv.data());
  const std::string message = "deeplab launch: cannot run " + o.program + ": " + std::strerror(errno) + "\n";
  [[maybe_unused]] auto w = ::write(STDERR_FILENO, message.data(), message.size());
  ::_exit(127);
}

// The started worker, or one with pid -1 and `why` set when it could not be.
Worker start_worker(const LaunchOptions& o, int local_rank, std::string& why) {
  Worker w;
  w.local_rank = local_rank;
  w.rank = o.node_rank * o.nproc_per_node + local_rank;
  int fds[2];
  if (::pipe(fds) != 0) {
    why = std::string("pipe: ") + std::strerror(errno);
    return w;
  }
  w.pid = o.fork();
  if (w.pid < 0) {
    why = std::string("fork: ") + std::strerror(errno);
    ::close(fds[0]);
    ::close(fds[1]);
    return w;
  }
  if (w.pid == 0) {
    ::close(fds[0]);
    exec_worker(o, local_rank, fds[1]);
  }
  ::setpgid(w.pid, w.pid);  // also here: whichever of parent and child runs first makes the group
  ::close(fds[1]);
  w.output = fds[0];
  ::fcntl(w.output, F_SETFL, ::fcntl(w.output, F_GETFL) | O_NONBLOCK);
  return w;
}

void emit_line(Worker& w, const std::string& line, size_t tail_lines) {
  if (w.rank == 0) {
    std::cout << line << "\n" << std::flush;
  } else {
    std::cerr << "[rank " << w.rank << "] " << line << "\n" << std::flush;
  }
  w.tail.push_back(line);
  while (w.tail.size() > tail_lines) w.tail.pop_front();
}

// Reads what is available; progress bars' carriage returns end lines too.
void drain(Worker& w, size_t tail_lines) {
  if (w.output < 0) return;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(w.output, buffer, sizeof(buffer));
    if (n > 0) {
      for (ssize_t i = 0; i < n; ++i) {
        if (buffer[i] == '\n' || buffer[i] == '\r') {
          if (!w.partial.empty()) emit_line(w, w.partial, tail_lines);
          w.partial.clear();
        } else {
          w.partial += buffer[i];
        }
      }
      continue;
    }
    if (n == 0) {  // closed: the worker is gone
      if (!w.partial.empty()) emit_line(w, w.partial, tail_lines);
      w.partial.clear();
      ::close(w.output);
      w.output = -1;
    }
    return;  // EAGAIN: nothing more for now
  }
}

void poll_outputs(std::vector<Worker>& workers, int timeout_ms, size_t tail_lines) {
  std::vector<pollfd> fds;
  for (const auto& w : workers) {
    if (w.output >= 0) fds.push_back({w.output, POLLIN, 0});
  }
  if (fds.empty()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(timeout_ms));
  } else {
    ::poll(fds.data(), fds.size(), timeout_ms);
  }
  for (auto& w : workers) drain(w, tail_lines);
}

bool failed(const Worker& w) { return !w.running && !(WIFEXITED(w.status) && WEXITSTATUS(w.status) == 0); }

// `ended` counts the workers seen ending so far (their order, for first_failure).
void reap(std::vector<Worker>& workers) {
  int ended = 0;
  for (const auto& w : workers) ended = std::max(ended, w.ended);
  for (auto& w : workers) {
    if (!w.running) continue;
    int status = 0;
    if (::waitpid(w.pid, &status, WNOHANG | WUNTRACED | WCONTINUED) != w.pid) continue;
    if (WIFSTOPPED(status) || WIFCONTINUED(status)) {
      w.stopped = WIFSTOPPED(status);
      continue;
    }
    w.running = false;
    w.status = status;
    w.ended = ++ended;
  }
}

// The failure to report: the worker that ended first; a worker killed by a
// signal before one that exited with an error (that one usually only saw its
// peer vanish) when both were noticed together.
const Worker* first_failure(const std::vector<Worker>& workers) {
  const Worker* first = nullptr;
  for (const auto& w : workers) {
    if (!failed(w)) continue;
    if (first == nullptr || w.ended < first->ended || (WIFSIGNALED(w.status) && !WIFSIGNALED(first->status))) {
      first = &w;
    }
  }
  return first;
}

// To the worker's whole process group: a worker's own children (a shell's
// commands, helper processes) end with it instead of living on as orphans.
void signal_worker(const Worker& w, int signal) {
  if (::kill(-w.pid, signal) != 0) ::kill(w.pid, signal);  // the group may not exist yet
}

void signal_running(std::vector<Worker>& workers, int signal) {
  for (auto& w : workers) {
    if (!w.running) continue;
    signal_worker(w, SIGCONT);  // a stopped worker acts on SIGTERM only once continued
    signal_worker(w, signal);
  }
}

// SIGTERM, then SIGKILL after the grace period, to every worker still running.
void stop_all(std::vector<Worker>& workers, const LaunchOptions& o) {
  signal_running(workers, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(o.grace_seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    reap(workers);
    bool any = false;
    for (const auto& w : workers) any = any || w.running;
    if (!any) break;
    poll_outputs(workers, 50, static_cast<size_t>(o.tail_lines));
  }
  for (auto& w : workers) {
    if (!w.running) continue;
    signal_worker(w, SIGKILL);
    ::waitpid(w.pid, &w.status, 0);
    w.running = false;
  }
  // Members of a group whose leader already ended (its children) go too.
  for (const auto& w : workers) ::kill(-w.pid, SIGKILL);
  for (auto& w : workers) drain(w, static_cast<size_t>(o.tail_lines));
}

void report_failure(const Worker& w, int world, const std::vector<int>& stopped_ranks) {
  std::cerr << "\ndeeplab launch: rank " << w.rank << " of " << world << " (pid " << w.pid
            << ") failed: " << describe_exit(w.status) << "; the other workers were stopped.\n";
  for (const int rank : stopped_ranks) {
    std::cerr << "deeplab launch: rank " << rank
              << " had been stopped (SIGSTOP): the others timed out waiting for it\n";
  }
  if (!w.tail.empty()) {
    std::cerr << "last lines of rank " << w.rank << ":\n";
    for (const auto& line : w.tail) std::cerr << "  | " << line << "\n";
  }
}

// Starts the workers one by one, reaping any that already ended.  A worker
// that cannot be started, or a stop request meanwhile, ends the ones running
// (reaped, none left behind) and returns false after saying why.
bool start_all(std::vector<Worker>& workers, const LaunchOptions& o) {
  for (int local = 0; local < o.nproc_per_node; ++local) {
    std::string why;
    if (stop_requested()) {
      why = "stop requested";
    } else {
      workers.push_back(start_worker(o, local, why));
      if (workers.back().pid < 0) workers.pop_back();
      else if (o.after_start) o.after_start(local, workers.back().pid);
    }
    if (!why.empty()) {
      stop_all(workers, o);
      std::cerr << "deeplab launch: " << why << " while starting worker " << local << " of " << o.nproc_per_node
                << "; the " << workers.size() << " started were stopped\n";
      return false;
    }
    reap(workers);
  }
  return true;
}

}  // namespace

std::string describe_exit(int wait_status) {
  if (WIFEXITED(wait_status)) return "exit status " + std::to_string(WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) {
    const int signal = WTERMSIG(wait_status);
    return "signal " + std::to_string(signal) + " (" + ::strsignal(signal) + ")";
  }
  return "status " + std::to_string(wait_status);
}

int max_cpu_workers() {
  cpu_set_t cpus;
  const int cores = ::sched_getaffinity(0, sizeof(cpus), &cpus) == 0 ? CPU_COUNT(&cpus) : 1;
  return kCpuWorkersPerCore * std::max(cores, 1);
}

void check_launch_options(const LaunchOptions& o) {
  const std::string nproc = "launch --nproc-per-node " + std::to_string(o.nproc_per_node);
  if (o.nproc_per_node < 1) throw ConfigError(nproc + ": need at least 1");
  if (o.gpus == 0) throw ConfigError(nproc + ": the workers run on CUDA, but no GPU is visible");
  if (o.gpus > 0 && o.nproc_per_node > o.gpus) {
    throw ConfigError(nproc + ": the workers run on CUDA and this machine has " + std::to_string(o.gpus) +
                      " GPU(s); one worker per GPU, so at most " + std::to_string(o.gpus));
  }
  if (o.gpus < 0 && o.nproc_per_node > max_cpu_workers()) {
    throw ConfigError(nproc + ": CPU workers are limited to " + std::to_string(kCpuWorkersPerCore) +
                      " per core this process may use, " + std::to_string(max_cpu_workers()) +
                      " here; more would only time-share the cores");
  }
  if (o.nnodes < 1) throw ConfigError("launch --nnodes " + std::to_string(o.nnodes) + ": need at least 1");
  if (o.node_rank < 0 || o.node_rank >= o.nnodes) {
    throw ConfigError("launch --node-rank " + std::to_string(o.node_rank) + ": expected 0 <= node rank < --nnodes " +
                      std::to_string(o.nnodes));
  }
  if (o.master_port < 1 || o.master_port > 65535) {
    throw ConfigError("launch --master-port " + std::to_string(o.master_port) + ": not a TCP port");
  }
  if (o.arguments.empty())
    throw ConfigError("launch: no command given; e.g. deeplab launch --nproc-per-node 2 -- train -c CONFIG");
}

int launch_workers(const LaunchOptions& o) {
  check_launch_options(o);
  enable_graceful_stop();  // the first SIGINT/SIGTERM is forwarded; a second one ends the launcher (and so the workers)
  const int world = o.nnodes * o.nproc_per_node;
  std::vector<Worker> workers;
  workers.reserve(static_cast<size_t>(o.nproc_per_node));
  if (!start_all(workers, o)) return 1;
  bool forwarded = false;
  for (;;) {
    poll_outputs(workers, 100, static_cast<size_t>(o.tail_lines));
    reap(workers);
    if (stop_requested() && !forwarded) {
      signal_running(workers, SIGTERM);
      forwarded = true;
    }
    if (const Worker* culprit = first_failure(workers)) {
      const Worker failure = *culprit;  // stop_all() changes the others
      std::vector<int> stopped_ranks;
      for (const auto& w : workers) {
        if (w.running && w.stopped) stopped_ranks.push_back(w.rank);
      }
      stop_all(workers, o);
      report_failure(failure, world, stopped_ranks);
      return 1;
    }
    bool any = false;
    for (const auto& w : workers) any = any || w.running;
    if (!any) break;
  }
  for (auto& w : workers) drain(w, static_cast<size_t>(o.tail_lines));
  return 0;
}

}  // namespace deeplab::core
