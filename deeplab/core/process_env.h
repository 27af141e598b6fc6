#pragma once
// This process's place in a multi-process job as launchers announce it in
// the environment (torchrun's RANK / WORLD_SIZE), with command-line flags
// winning.  Sharded evaluation uses it today; distributed training extends it
// (LOCAL_RANK, Slurm's variables).

#include <string>

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

}  // namespace deeplab::core
