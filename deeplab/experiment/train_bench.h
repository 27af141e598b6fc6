#pragma once
// `deeplab bench train`: the time of one training step (forward, loss,
// backward, optimizer update and the trainer's own bookkeeping: the real
// Trainer::run_step, no hooks) at a given batch and crop, on in-memory
// images already at the crop size, so the loader's decode and augmentation
// (`deeplab bench loader`) stay out of the figure.  The model starts from its
// initialisation (no pretrained file is read); the train: section (amp,
// channels_last, optimizer, loss) is the config's.

#include <cstdint>
#include <functional>
#include <vector>

#include "deeplab/experiment/config.h"
#include "deeplab/train/trainer.h"

namespace deeplab::experiment {

struct TrainBenchOptions {
  int64_t batch = 4, crop_height = 321, crop_width = 321;
  int iterations = 10;  // timed steps
  int warmup = 2;       // untimed steps first
  /// Paced runs (a driver interleaving our steps with another program's):
  /// called once the warm-up is done, before each timed step; false ends
  /// the run early (with the steps timed so far).
  std::function<bool()> before_timed_step;
  /// Called with each timed step's milliseconds.
  std::function<void(double)> after_timed_step;
};

struct TrainBenchResult {
  std::vector<double> milliseconds;  // each timed step, in order
  double median_ms = 0, p90_ms = 0;
  double images_per_second = 0;  // batch / median
  std::string device;            // where the steps ran ("cpu", "cuda:0")
  double peak_rss_mib = 0;
  double peak_device_mib = 0;     // CUDA: the caching allocator's peak over the timed steps (0 on CPU)
  train::StepTimes median_parts;  // median of each part over the timed steps, seconds
};

/// Times training steps of `config`'s model; ConfigError for a panoptic model
/// (its targets need instance maps these in-memory images do not have).
TrainBenchResult benchmark_training(Config config, const TrainBenchOptions& options);

}  // namespace deeplab::experiment
