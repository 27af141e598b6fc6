#pragma once
// Learning rate per iteration: poly / step / cosine / constant, with an
// optional linear warmup; evaluated fresh every iteration (no state).

#include <cstdint>

#include "deeplab/train/train_config.h"

namespace deeplab::train {

class LrSchedule {
 public:
  LrSchedule(double base_lr, int64_t max_iters, ScheduleConfig config);
  /// The learning rate for optimizer step `iter` (0-based).
  double at(int64_t iter) const;

 private:
  double decayed(int64_t iter) const;

  double base_lr_;
  int64_t max_iters_;
  ScheduleConfig config_;
};

}  // namespace deeplab::train
