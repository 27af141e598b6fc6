#include "deeplab/experiment/distributed_run.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <sstream>

#include "deeplab/core/cuda_device.h"
#include "deeplab/core/logging.h"
#include "deeplab/experiment/run_dir.h"

namespace deeplab::experiment {

DistributedRun join_distributed_run(const Config& config, c10::Device device) {
  DistributedRun run;
  run.rendezvous = core::rendezvous_from_env();
  run.device = device;
  if (device.is_cuda() && run.rendezvous.distributed()) {
    const int gpus = static_cast<int>(torch::cuda::device_count());
    if (run.rendezvous.local_rank >= gpus) {
      throw ConfigError("LOCAL_RANK " + std::to_string(run.rendezvous.local_rank) + " but this machine shows " +
                        std::to_string(gpus) + " GPU(s): start at most one process per GPU");
    }
    run.device = c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(run.rendezvous.local_rank));
    core::set_current_device(run.device);  // NCCL's communicator and index-less allocations use it
  }
  if (!run.rendezvous.distributed()) return run;
  core::ProcessGroupOptions options;
  options.backend = config.runtime.dist_backend;
  options.cuda_device = run.device.is_cuda() ? run.device.index() : -1;
  options.timeout = std::chrono::milliseconds(static_cast<int64_t>(config.runtime.dist_timeout_s * 1000));
  run.group = core::ProcessGroup::create(run.rendezvous, options);
  return run;
}

void prepare_rank_dir(const Config& config, const DistributedRun& run, const std::string& dir) {
  if (run.is_main_process()) {
    prepare_run_dir(config, dir);
  } else {
    core::set_console_logging(false);
  }
  if (run.rendezvous.distributed()) {
    core::add_log_file((std::filesystem::path(dir) / "logs" / ("rank" + std::to_string(run.rank()) + ".log")).string());
    spdlog::info("rank {} of {} (pid {}, local rank {}, {} via {}) on {}", run.rank(), run.rendezvous.world_size,
                 static_cast<long>(::getpid()), run.rendezvous.local_rank, run.group ? run.group->backend() : "none",
                 run.rendezvous.source, run.device.str());
  }
}

std::string describe_data_parallel(const Config& config, const DistributedRun& run) {
  const int world = run.rendezvous.world_size;
  const int64_t batch = static_cast<int64_t>(config.data.batch_size);
  std::ostringstream text;
  text << world << " process" << (world > 1 ? "es" : "") << " x batch " << batch;
  if (config.train.accumulate > 1) text << " x " << config.train.accumulate << " accumulated";
  text << " = global batch " << batch * world * config.train.accumulate;
  if (run.group) text << " (" << run.group->backend() << ")";
  text << "; lr " << config.train.lr << " as configured (not scaled by the world size)";
  return text.str();
}

}  // namespace deeplab::experiment
