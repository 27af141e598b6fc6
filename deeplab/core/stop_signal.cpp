#include "deeplab/core/stop_signal.h"

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <mutex>
#include <thread>

namespace deeplab::core {
namespace {

std::atomic<bool> g_graceful{false};
std::atomic<bool> g_stop{false};
std::once_flag g_started;
pthread_t g_signal_thread;

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

void wait_for_signals() {
  const sigset_t set = stop_signals();
  for (;;) {
    int signal = 0;
    if (sigwait(&set, &signal) != 0) continue;
    if (g_graceful && !g_stop) {
      g_stop = true;
      const char message[] = "\nstop requested: finishing this step and writing a checkpoint (again to quit now)\n";
      [[maybe_unused]] const auto written = ::write(STDERR_FILENO, message, sizeof(message) - 1);
      continue;
    }
    ::_exit(128 + signal);
  }
}

}  // namespace

// Threads that libraries start before main() (OpenBLAS's pool) do not block
// the signals; one landing there is handed to the waiting thread.
extern "C" void forward_to_signal_thread(int signal) { pthread_kill(g_signal_thread, signal); }

void start_signal_thread() {
  std::call_once(g_started, [] {
    const sigset_t set = stop_signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::thread waiter(wait_for_signals);
    g_signal_thread = waiter.native_handle();
    waiter.detach();
    struct sigaction action {};
    action.sa_handler = forward_to_signal_thread;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
  });
}

void enable_graceful_stop() {
  start_signal_thread();
  g_stop = false;
  g_graceful = true;
}

bool stop_requested() { return g_stop; }

}  // namespace deeplab::core
