#include "deeplab/train/lr_schedule.h"

#include <algorithm>
#include <cmath>

namespace deeplab::train {

LrSchedule::LrSchedule(double base_lr, int64_t max_iters, ScheduleConfig config)
    : base_lr_(base_lr), max_iters_(max_iters), config_(std::move(config)) {}

double LrSchedule::decayed(int64_t iter) const {
  const double progress = std::min(1.0, static_cast<double>(iter) / static_cast<double>(max_iters_));
  const double floor = config_.min_lr;
  if (config_.name == "poly") {
    // lr = (base - min) * (1 - it / max)^power + min  (DeepLab's poly with an end lr)
    return (base_lr_ - floor) * std::pow(1.0 - progress, config_.power) + floor;
  }
  if (config_.name == "cosine") {
    return floor + (base_lr_ - floor) * 0.5 * (1.0 + std::cos(M_PI * progress));
  }
  if (config_.name == "step") {
    double lr = base_lr_;
    for (const int step : config_.steps) {
      if (iter >= step) lr *= config_.gamma;
    }
    return std::max(lr, floor);
  }
  return base_lr_;  // constant
}

double LrSchedule::at(int64_t iter) const {
  const double lr = decayed(iter);
  if (iter >= config_.warmup_iters) return lr;
  // Linear warmup from factor * lr to lr over warmup_iters.
  const double alpha = static_cast<double>(iter) / config_.warmup_iters;
  return lr * (config_.warmup_factor + (1.0 - config_.warmup_factor) * alpha);
}

}  // namespace deeplab::train
