#pragma once
// Runs a test body in N forked processes that form a real c10d process group
// over the loopback (a TCP store on a free port), as a launcher would: the
// distributed tests use it.  The parent only forks and waits, so no thread
// of the parent's exists in the children.  Fork before the test process runs
// any parallel op of its own: the GNU OpenMP runtime inside PyPI's LibTorch
// leaves a child forked after a parallel region hanging in its first one.

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <iostream>
#include <thread>
#include <vector>

#include "deeplab/core/process_env.h"

namespace deeplab::testing {

/// A TCP port nobody listens on right now.
inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

/// How one rank's process ended.
struct RankExit {
  int exit_code = -1;  // -1: killed by a signal or by the timeout
  bool timed_out = false;
};

/// Forks `world` processes running body(rendezvous) (exit 0 when it returns,
/// 1 when it throws, or whatever code it _exit()s with); kills them all after
/// `timeout_s`.  Returns how each ended, by rank.
inline std::vector<RankExit> run_ranks(int world, const std::function<void(const core::Rendezvous&)>& body,
                                       double timeout_s = 120) {
  const int port = free_port();
  std::vector<pid_t> pids;
  for (int rank = 0; rank < world; ++rank) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      core::Rendezvous r;
      r.rank = rank;
      r.world_size = world;
      r.local_rank = rank;
      r.local_world_size = world;
      r.master_port = port;
      r.source = "test";
      int code = 0;
      try {
        body(r);
      } catch (const std::exception& e) {
        std::cerr << "rank " << rank << ": " << e.what() << std::endl;
        code = 1;
      }
      std::cout.flush();
      ::_exit(code);
    }
    pids.push_back(pid);
  }
  std::vector<RankExit> exits(static_cast<size_t>(world));
  std::vector<bool> done(static_cast<size_t>(world), false);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  for (size_t left = pids.size(); left > 0;) {
    for (size_t i = 0; i < pids.size(); ++i) {
      if (done[i]) continue;
      int status = 0;
      if (::waitpid(pids[i], &status, WNOHANG) != pids[i]) continue;
      done[i] = true;
      --left;
      exits[i].exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    if (left == 0) break;
    if (std::chrono::steady_clock::now() > deadline) {
      for (size_t i = 0; i < pids.size(); ++i) {
        if (done[i]) continue;
        ::kill(pids[i], SIGKILL);
        ::waitpid(pids[i], nullptr, 0);
        exits[i].timed_out = true;
      }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return exits;
}

}  // namespace deeplab::testing
