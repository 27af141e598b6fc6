#pragma once
// Trainer hooks: logging/progress, checkpoints, evaluation, distributed
// gradient all-reduce all plug in here, each with its own saved state.

namespace deeplab::train {

class Trainer;

class Hook {
 public:
  virtual ~Hook() = default;
  virtual void before_train(Trainer&) {}
  /// After backward, before the optimizer step: e.g. gradient all-reduce.
  virtual void after_backward(Trainer&) {}
  virtual void after_step(Trainer&) {}
  /// `interrupted`: the run stopped early (SIGINT/SIGTERM) and will resume.
  virtual void after_train(Trainer&, bool /*interrupted*/) {}
};

}  // namespace deeplab::train
