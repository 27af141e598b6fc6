#pragma once
// Training checkpoints: model, optimizer, and the state of every part of the
// run that has some, each under its own key prefix, in one file written
// atomically (a crash mid-write leaves the previous checkpoint as the latest
// loadable one):
//   model.<param>          parameters and buffers (our names)
//   optimizer              the optimizer's own archive
//   trainer.<key>          iteration and loader position (Trainer::state_dict)
//   scaler.<key>           fp16 gradient scaler (GradScaler::state_dict)
//   hooks.<name>.<key>     each hook's state_dict (e.g. hooks.best.best_score)
//   rank<r>.<key>          per-process state: rng.cpu, rng.cuda of rank r
//   format                 2 (format-1 files have none and are translated)

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "deeplab/core/error.h"

namespace deeplab::train {

/// The named tensors of one part's state.
using TensorMap = std::map<std::string, torch::Tensor>;

/// Everything of a checkpoint besides the model and the optimizer.
struct RunState {
  TensorMap trainer;
  TensorMap scaler;
  std::map<std::string, TensorMap> hooks;  // by hook name
  std::map<int, TensorMap> ranks;          // by rank
};

/// Writes `<dir>/iter_<NNNNNNN>.ckpt` for `iteration`; returns its path.
std::string save_checkpoint(const std::string& dir, int64_t iteration, torch::nn::Module& model,
                            torch::optim::Optimizer& optimizer, const RunState& state);

/// A checkpoint file that cannot be read at all (cut short, damaged, not a
/// checkpoint); thrown before anything of it is applied, so a caller may
/// fall back to an older one.
class UnreadableCheckpoint : public IoError {
 public:
  using IoError::IoError;
};

/// Restores model and optimizer and returns the rest.  The file is read and
/// checked against the model first (UnreadableCheckpoint; a ConfigError
/// listing missing, extra and reshaped tensors when another model saved it),
/// so a failed check leaves model and optimizer as they were.  Checkpoints
/// of the first format (state.*, rng.cpu) are translated to this one.
RunState load_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer& optimizer);

/// The checkpoints `iter_<N>.ckpt` of `dir`, highest iteration first
/// (partially written temp files are never candidates).
std::vector<std::string> checkpoints_newest_first(const std::string& dir);

/// The checkpoint with the highest iteration in `dir` ("" when none).
std::string latest_checkpoint(const std::string& dir);

/// Deletes all but the newest `keep` checkpoints in `dir`.
void prune_checkpoints(const std::string& dir, int keep);

/// Scalars in state maps: int64 and double tensors.
torch::Tensor state_scalar(int64_t value);
torch::Tensor state_scalar(double value);
/// The entry `key` of `map` as a number, or `fallback` when absent.
int64_t state_int(const TensorMap& map, const std::string& key, int64_t fallback);
double state_double(const TensorMap& map, const std::string& key, double fallback);

}  // namespace deeplab::train
