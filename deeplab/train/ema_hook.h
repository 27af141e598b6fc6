#pragma once
// train.ema as a hook: updates the weight average after every step, keeps it
// in checkpoints (hooks.ema.<name>, so a resumed run averages on exactly), and
// writes final_ema.pth at the end.  Its evaluations and best_ema.pth are an
// EvalHook and a BestCheckpointHook given the same average (hooks.h).

#include <memory>

#include "deeplab/train/hook.h"
#include "deeplab/train/weight_average.h"

namespace deeplab::train {

class EmaHook : public Hook {
 public:
  explicit EmaHook(std::shared_ptr<WeightAverage> average) : average_(std::move(average)) {}
  std::string name() const override { return "ema"; }
  TensorMap state_dict() const override { return average_->state_dict(); }
  void load_state_dict(const TensorMap& state) override { average_->load_state_dict(state); }
  void after_step(Trainer& trainer) override;
  void after_train(Trainer& trainer, bool interrupted) override;

 private:
  std::shared_ptr<WeightAverage> average_;
};

}  // namespace deeplab::train
