#pragma once
// Training checkpoints: model, optimizer, iteration, loader position, RNG
// and bookkeeping in one file, written atomically (a crash mid-write leaves
// the previous checkpoint as the latest loadable one).

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include <cstdint>
#include <string>

namespace deeplab::train {

/// Everything besides tensors that a resumed run needs to continue exactly.
struct TrainState {
  int64_t iteration = 0;       // optimizer steps done
  int64_t epoch = 0;           // loader epoch of the next batch
  int64_t batch_in_epoch = 0;  // index of the next batch within that epoch
  double best_miou = -1.0;
  int64_t best_iteration = -1;
  double loss_scale = 65536.0;  // fp16 gradient scaler
  int64_t scaler_good_steps = 0;
  int64_t skipped_steps = 0;    // non-finite steps skipped (skip_nonfinite)
};

/// Writes `<dir>/iter_<NNNNNNN>.ckpt`; returns its path.
std::string save_checkpoint(const std::string& dir, torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                            const TrainState& state);

/// Restores model, optimizer and the CPU RNG; returns the state.  Errors name the file.
TrainState load_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer& optimizer);

/// The checkpoint with the highest iteration in `dir` ("" when none);
/// partially written temp files are never candidates.
std::string latest_checkpoint(const std::string& dir);

/// Deletes all but the newest `keep` checkpoints in `dir`.
void prune_checkpoints(const std::string& dir, int keep);

}  // namespace deeplab::train
