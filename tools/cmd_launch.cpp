// `deeplab launch --nproc-per-node N [--nnodes M --node-rank R --master-addr A
//  --master-port P] -- train -c CONFIG ...`: starts N workers of this binary
// with the torchrun environment and supervises them (core/launcher.h).

#include <CLI/CLI.hpp>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <iostream>

#include "deeplab/core/cuda_device.h"
#include "deeplab/core/error.h"
#include "deeplab/core/launcher.h"
#include "deeplab/experiment/config.h"
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

// The GPUs the workers will share, from the runtime.device of the config
// their command names (-c, with its --set overrides): -1 for CPU workers.
// A config that does not load is left to the workers to report.
int gpus_for(const std::vector<std::string>& command) {
  std::string config;
  std::vector<std::string> sets;
  for (size_t i = 0; i + 1 < command.size(); ++i) {
    if (command[i] == "-c" || command[i] == "--config") config = command[i + 1];
    if (command[i] == "--set") sets.push_back(command[i + 1]);
  }
  if (config.empty()) return -1;
  std::string device;
  try {
    device = experiment::load_config(config, sets).runtime.device;
  } catch (const Error&) {
    return -1;
  }
  const int visible = core::cuda_info().gpus;
  if (device.rfind("cuda", 0) == 0) return visible;
  return device == "auto" && visible > 0 ? visible : -1;
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
  // Without `--`, the worker command's options (-c ...) would read as
  // launch's own: keep them apart and say where they belong.
  cmd->allow_extras();
  cmd->callback([options, cmd] {
    std::vector<std::string> extras = cmd->remaining();
    extras.erase(std::remove(extras.begin(), extras.end(), "--"), extras.end());  // the separator itself
    if (!extras.empty()) {
      throw ConfigError("launch: '" + extras.front() +
                        "' is not an option of launch; put the workers' command after --, e.g. deeplab launch "
                        "--nproc-per-node 2 -- train -c CONFIG");
    }
    options->program = this_executable();
    options->gpus = gpus_for(options->arguments);
    const int status = core::launch_workers(*options);
    std::cout.flush();
    std::cerr.flush();
    if (status != 0) std::_Exit(status);
  });
}

}  // namespace deeplab::tools
