#include "deeplab/experiment/train_bench.h"

#include <torch/torch.h>

#include <chrono>
#include <filesystem>

#include "deeplab/core/bench_stats.h"
#include "deeplab/core/cuda_device.h"
#include "deeplab/core/error.h"
#include "deeplab/core/runtime.h"
#include "deeplab/data/memory_dataset.h"
#include "deeplab/data/transforms.h"
#include "deeplab/experiment/make_trainer.h"
#include "deeplab/models/factory.h"

namespace deeplab::experiment {
namespace {

// Images of noise with labels in vertical bands of every class, so the loss
// sees all classes; two batches' worth, cycled by the loader's epochs.
std::shared_ptr<const data::Dataset> crop_sized_samples(const TrainBenchOptions& o, int num_classes) {
  cv::RNG rng(0);
  std::vector<data::Sample> samples;
  for (int64_t i = 0; i < 2 * o.batch; ++i) {
    data::Sample s;
    s.id = "bench_" + std::to_string(i);
    s.image = cv::Mat(static_cast<int>(o.crop_height), static_cast<int>(o.crop_width), CV_8UC3);
    rng.fill(s.image, cv::RNG::UNIFORM, 0, 256);
    s.label = cv::Mat(s.image.rows, s.image.cols, CV_8UC1);
    for (int x = 0; x < s.label.cols; ++x) {
      s.label.col(x).setTo(cv::Scalar((x * num_classes / s.label.cols + static_cast<int>(i)) % num_classes));
    }
    samples.push_back(std::move(s));
  }
  return std::make_shared<data::MemoryDataset>(std::move(samples), num_classes);
}

}  // namespace

TrainBenchResult benchmark_training(Config config, const TrainBenchOptions& o) {
  if (models::is_panoptic(config.model)) {
    throw ConfigError("bench train: " + config.model.arch + " needs instance targets; semantic models only so far");
  }
  if (o.batch < 1 || o.crop_height < 1 || o.crop_width < 1 || o.iterations < 1 || o.warmup < 0) {
    throw ConfigError("bench train: batch, crop and iterations must be positive");
  }
  config.data.batch_size = static_cast<int>(o.batch);
  config.train.max_iters = o.warmup + o.iterations;
  config.model.backbone.pretrained.clear();  // the step time does not depend on the starting weights
  const c10::Device device = core::apply_runtime(config.runtime);
  models::DeepLab model = models::build_model(config.model);

  auto loader_options = data::LoaderOptions::from_config(config.data, /*train=*/true, 0);
  loader_options.workers = 0;  // the batch is made in the step's thread: no competition for the cores
  auto transform = data::Transform(data::TransformOptions::from_config(config.data, /*train=*/false));
  auto loader =
      std::make_unique<data::Loader>(crop_sized_samples(o, config.model.num_classes), transform, loader_options);
  const std::string work_dir = (std::filesystem::temp_directory_path() / "deeplab_bench_train").string();
  train::Trainer trainer = make_trainer(config, std::move(model), device, work_dir, nullptr, std::move(loader));

  TrainBenchResult r;
  std::vector<double> data, forward, backward, update;
  for (int i = 0; i < o.warmup + o.iterations; ++i) {
    if (i >= o.warmup && o.before_timed_step && !o.before_timed_step()) break;
    if (i == o.warmup) core::reset_peak_device_memory(device);
    core::synchronize(device);  // the clock starts with nothing queued ...
    const auto start = std::chrono::steady_clock::now();
    const train::StepResult step = trainer.run_step();
    core::synchronize(device);  // ... and stops when the step's kernels are done
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (i < o.warmup) continue;
    r.milliseconds.push_back(ms);
    if (o.after_timed_step) o.after_timed_step(ms);
    data.push_back(step.times.data);
    forward.push_back(step.times.forward);
    backward.push_back(step.times.backward);
    update.push_back(step.times.update);
  }
  if (r.milliseconds.empty()) throw ConfigError("bench train: no step was timed (the pacing driver stopped first)");
  r.median_parts = {core::percentile(data, 0.5), core::percentile(forward, 0.5), core::percentile(backward, 0.5),
                    core::percentile(update, 0.5)};
  r.median_ms = core::percentile(r.milliseconds, 0.5);
  r.p90_ms = core::percentile(r.milliseconds, 0.9);
  r.images_per_second = static_cast<double>(o.batch) * 1e3 / r.median_ms;
  r.device = device.str();
  r.peak_rss_mib = core::peak_rss_mib();
  r.peak_device_mib = core::peak_device_memory_mib(device);
  return r;
}

}  // namespace deeplab::experiment
