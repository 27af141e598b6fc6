#pragma once
// This process's place in a multi-process job as launchers announce it in
// the environment, with command-line flags winning:
//   torchrun / `deeplab launch`: RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE,
//     MASTER_ADDR, MASTER_PORT (+ TORCHELASTIC_USE_AGENT_STORE,
//     TORCHELASTIC_RESTART_COUNT under torchrun's elastic agent);
//   Slurm (`srun`): SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID,
//     SLURM_NTASKS_PER_NODE, the first host of SLURM_JOB_NODELIST and a port
//     derived from SLURM_JOB_ID, each overridable by the torchrun names.

#include <string>
#include <vector>

namespace deeplab::core {

struct ProcessPlace {
  int rank = 0;
  int world_size = 1;
};

/// RANK and WORLD_SIZE (defaults 0 and 1 when unset).  ConfigError naming the
/// variable when one is not an integer, or when the rank is outside [0, world).
ProcessPlace process_place_from_env();

/// `rank` / `world_size` from flags (negative: not given) over the
/// environment; `command` names the flags' owner in errors ("eval").  Flags
/// come both or neither.
ProcessPlace resolve_process_place(int rank, int world_size, const std::string& command);

/// Everything a process needs to join its job's process group.
struct Rendezvous {
  int rank = 0, world_size = 1;
  int local_rank = 0, local_world_size = 1;  // on this machine (picks the GPU)
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  bool agent_store = false;     // torchrun's agent serves the store: every rank is a client
  int restart_count = 0;        // torchrun's elastic restarts so far
  std::string source = "none";  // "torchrun", "slurm" or "none" (one process)

  bool distributed() const { return world_size > 1; }
  /// Every rank runs on this machine (the loopback interface suffices).
  bool single_machine() const { return local_world_size == world_size; }
};

/// The rendezvous the environment describes: the torchrun variables when
/// WORLD_SIZE is set, else Slurm's when SLURM_NTASKS is, else one process.
/// ConfigError naming the variable at fault.
Rendezvous rendezvous_from_env();

/// Hosts of a Slurm node list: "gpu[01-03,07],cpu1" -> gpu01 gpu02 gpu03 gpu07
/// cpu1 (zero padding kept; several bracket groups in one name multiply).
/// ConfigError naming the list when it is malformed.
std::vector<std::string> expand_slurm_nodelist(const std::string& nodelist);

/// MASTER_PORT for a Slurm job without one: 15000 + job id mod 20000, so
/// concurrent jobs on a node rarely collide.
int slurm_default_port(long long job_id);

}  // namespace deeplab::core
