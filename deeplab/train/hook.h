#pragma once
// Trainer hooks: progress and metrics, checkpoints, periodic evaluation (and,
// later, distributed gradient all-reduce) plug in here.  A hook that keeps
// state across a resume returns it from state_dict(); the trainer stores it
// in checkpoints as hooks.<name>.<key> and hands it back through
// load_state_dict() when a run resumes (detectron2's HookBase does the same).

#include <string>

#include "deeplab/train/checkpoint.h"

namespace deeplab::train {

class Trainer;

class Hook {
 public:
  virtual ~Hook() = default;
  /// The hook's key in checkpoints; unique among one trainer's hooks.
  virtual std::string name() const = 0;
  /// What a resumed run needs to continue as if never stopped ({} for none).
  virtual TensorMap state_dict() const { return {}; }
  /// Restores state_dict(); keys absent from an older checkpoint keep their defaults.
  virtual void load_state_dict(const TensorMap& /*state*/) {}

  virtual void before_train(Trainer&) {}
  /// After backward, before the optimizer step: e.g. gradient all-reduce.
  virtual void after_backward(Trainer&) {}
  virtual void after_step(Trainer&) {}
  /// `interrupted`: the run stopped early (SIGINT/SIGTERM) and will resume.
  virtual void after_train(Trainer&, bool /*interrupted*/) {}
};

}  // namespace deeplab::train
