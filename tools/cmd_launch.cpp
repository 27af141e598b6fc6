// `deeplab launch --nproc-per-node N [--nnodes M --node-rank R --master-addr A
//  --master-port P] -- train -c CONFIG ...`: starts N workers of this binary
// with the torchrun environment and supervises them (core/launcher.h).

#include <CLI/CLI.hpp>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <iostream>

#include "deeplab/core/launcher.h"
#include "tools/commands.h"

namespace deeplab::tools {
namespace {

std::string this_executable() {
  char path[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", path, sizeof(path) - 1);
  if (n <= 0) return "deeplab";
  path[n] = '\0';
  return path;
}

}  // namespace

void add_launch_command(CLI::App& app) {
  auto options = std::make_shared<core::LaunchOptions>();
  auto* cmd = app.add_subcommand(
      "launch", "run a command in N worker processes per machine (multi-process training or sharded eval)");
  cmd->add_option("--nproc-per-node", options->nproc_per_node, "workers on this machine (one per GPU)")->required();
  cmd->add_option("--nnodes", options->nnodes, "machines in the job (default 1)");
  cmd->add_option("--node-rank", options->node_rank, "this machine's index, 0..nnodes-1 (default 0)");
  cmd->add_option("--master-addr", options->master_addr, "host of node 0 (default 127.0.0.1)");
  cmd->add_option("--master-port", options->master_port, "free TCP port on node 0 (default 29500)");
  cmd->add_option("--grace-period", options->grace_seconds,
                  "seconds between SIGTERM and SIGKILL when stopping workers (default 5)");
  cmd->add_option("command", options->arguments, "the deeplab command the workers run, after --")->required();
  cmd->callback([options] {
    options->program = this_executable();
    const int status = core::launch_workers(*options);
    std::cout.flush();
    std::cerr.flush();
    if (status != 0) std::_Exit(status);
  });
}

}  // namespace deeplab::tools
