#pragma once
// Joining a multi-process training run from an experiment config and the
// launcher's environment (torchrun, srun, `deeplab launch`): the process
// group, this rank's device (one GPU per process by LOCAL_RANK), and logging
// (rank 0 to the console; every rank to <work_dir>/logs/rank<r>.log).

#include <c10/core/Device.h>

#include <memory>
#include <string>

#include "deeplab/core/process_env.h"
#include "deeplab/core/process_group.h"
#include "deeplab/experiment/config.h"

namespace deeplab::experiment {

struct DistributedRun {
  core::Rendezvous rendezvous;
  std::shared_ptr<core::ProcessGroup> group;  // null for one process
  c10::Device device{c10::kCPU};

  int rank() const { return rendezvous.rank; }
  bool is_main_process() const { return rendezvous.rank == 0; }
  /// torchrun restarted the workers after a failure: resume by ourselves.
  bool elastic_restart() const { return rendezvous.restart_count > 0; }
};

/// Joins the run the environment describes (a single process when it
/// describes none).  `device` is runtime.device resolved; a CUDA device
/// becomes cuda:LOCAL_RANK.  Errors name the variable, key or rank at fault.
DistributedRun join_distributed_run(const Config& config, c10::Device device);

/// Prepares `dir` for this rank: rank 0 writes the effective config and
/// log.txt (prepare_run_dir); every rank logs to logs/rank<r>.log; ranks > 0
/// go quiet on the console.
void prepare_rank_dir(const Config& config, const DistributedRun& run, const std::string& dir);

/// "2 processes x batch 4 = global batch 8 (gloo); lr 0.01 as configured (not scaled by the world size)".
std::string describe_data_parallel(const Config& config, const DistributedRun& run);

}  // namespace deeplab::experiment
