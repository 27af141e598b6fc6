#include "deeplab/train/signals.h"

#include <csignal>
#include <cstdlib>
#include <unistd.h>

namespace deeplab::train {
namespace {

volatile std::sig_atomic_t g_stop = 0;

extern "C" void on_stop_signal(int signal) {
  if (g_stop) std::_Exit(128 + signal);  // the user insists: no checkpoint
  g_stop = 1;
  const char message[] = "\nstop requested: finishing this step and writing a checkpoint (again to quit now)\n";
  [[maybe_unused]] const auto written = ::write(STDERR_FILENO, message, sizeof(message) - 1);
}

}  // namespace

void install_stop_handlers() {
  g_stop = 0;
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
}

bool stop_signal_received() { return g_stop != 0; }

}  // namespace deeplab::train
