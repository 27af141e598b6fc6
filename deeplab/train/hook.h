#pragma once
// Trainer hooks: progress and metrics, checkpoints and periodic evaluation
// plug in here (the gradient all-reduce of a data-parallel run is the
// trainer's own, train/grad_reducer.h, overlapped with backward).  A hook that keeps
// state across a resume returns it from state_dict(); the trainer stores it
// in checkpoints as hooks.<name>.<key> and hands it back through
// load_state_dict() when a run resumes (detectron2's HookBase does the same).

#include <string>
#include <vector>

#include "deeplab/train/checkpoint.h"

namespace deeplab::train {

class Trainer;

class Hook {
 public:
  virtual ~Hook() = default;
  /// The hook's key in checkpoints; unique among one trainer's hooks.
  virtual std::string name() const = 0;
  /// Keys earlier versions saved this hook's state under (read when a
  /// checkpoint has none under name()), so older runs resume exactly.
  virtual std::vector<std::string> earlier_names() const { return {}; }
  /// What a resumed run needs to continue as if never stopped ({} for none).
  virtual TensorMap state_dict() const { return {}; }
  /// Restores state_dict(); keys absent from an older checkpoint keep their defaults.
  virtual void load_state_dict(const TensorMap& /*state*/) {}

  virtual void before_train(Trainer&) {}
  /// After backward (gradients complete and, in a data-parallel run, summed
  /// over the ranks), before the optimizer step: e.g. gradient statistics.
  virtual void after_backward(Trainer&) {}
  virtual void after_step(Trainer&) {}
  /// `interrupted`: the run stopped early (SIGINT/SIGTERM) and will resume.
  virtual void after_train(Trainer&, bool /*interrupted*/) {}
};

}  // namespace deeplab::train
