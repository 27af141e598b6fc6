#pragma once
// Multi-threaded batch loader: worker threads decode, augment and collate
// whole batches ahead of the consumer into a bounded reorder buffer. Every
// sample's randomness is seeded by (seed, epoch, rank, position), so the same
// seed gives the same batches whatever the worker count.

#include <ATen/core/Tensor.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "deeplab/data/data_config.h"
#include "deeplab/data/dataset.h"
#include "deeplab/data/panoptic_targets.h"
#include "deeplab/data/sampler.h"
#include "deeplab/data/transforms.h"

namespace deeplab::data {

/// A collated batch: contiguous tensors plus what each row came from.
struct Batch {
  at::Tensor images;     // float32 [N, 3, H, W], normalised
  at::Tensor labels;     // int64 [N, H, W], ignore label for void/padding
  at::Tensor instances;  // int32 [N, H, W] raw instance ids, or undefined
  // Panoptic-DeepLab targets (LoaderOptions::panoptic set), else undefined; padding is 0.
  at::Tensor center;            // float [N, 1, H, W] heatmap
  at::Tensor center_weights;    // float [N, H, W]
  at::Tensor offset;            // float [N, 2, H, W] (dy, dx)
  at::Tensor offset_weights;    // float [N, H, W]
  at::Tensor semantic_weights;  // float [N, H, W]
  std::vector<std::string> ids;
  std::vector<size_t> indices;  // dataset indices
  /// Per sample, a seed for randomness after the loader (the MaX losses'
  /// pixel sampling), keyed like its crop by (run seed, epoch, position in
  /// the global order): the same on any number of processes and on resume.
  std::vector<uint64_t> seeds;
};

/// Loader settings; `from_config` maps the `data:` section.
struct LoaderOptions {
  size_t batch_size = 8;
  int workers = 2;   // 0: load in the calling thread
  int prefetch = 4;  // batches ready or in flight at most
  bool drop_last = true;
  bool skip_bad_samples = false;
  bool train = true;  // shuffling + padded shards (see DistributedSampler)
  uint64_t seed = 0;
  int rank = 0, world_size = 1;
  /// Collate into page-locked memory (needs a visible GPU): set by the caller
  /// for a CUDA run with data.pin_memory, not by from_config.
  bool pin_memory = false;
  Normalization normalization;
  /// Panoptic targets made in the workers after the transform; set by the caller
  /// (panoptic_target_options), not by from_config.
  std::optional<PanopticTargetOptions> panoptic;

  static LoaderOptions from_config(const DataConfig& config, bool train, uint64_t seed);
};

/// Iterates one epoch at a time: `start_epoch(e)` then `next()` until empty.
class Loader {
 public:
  Loader(std::shared_ptr<const Dataset> dataset, Transform transform, LoaderOptions options);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  /// Stops any running epoch and starts workers on `epoch`, from batch
  /// `first_batch` (a resumed run continues mid-epoch).
  void start_epoch(int64_t epoch, size_t first_batch = 0);
  /// The next batch in order, or nullopt at the end of the epoch. Rethrows a
  /// worker's error (unless skip_bad_samples covers it).
  std::optional<Batch> next();
  /// Batches per epoch for this rank.
  size_t num_batches() const;
  /// Samples skipped as bad since construction (skip_bad_samples).
  size_t skipped() const { return skipped_.load(); }
  const Dataset& dataset() const { return *dataset_; }

 private:
  struct Slot {
    std::optional<Batch> batch;
    std::exception_ptr error;
  };
  void stop_workers();
  void worker_loop();
  Slot load_batch(size_t b) const;
  Batch collate(std::vector<Sample>& samples, const std::vector<PanopticTargets>& targets,
                const std::vector<size_t>& indices) const;

  std::shared_ptr<const Dataset> dataset_;
  Transform transform_;
  LoaderOptions options_;
  DistributedSampler sampler_;
  std::optional<PanopticTargetGenerator> panoptic_;

  int64_t epoch_ = -1;
  std::vector<size_t> order_;
  size_t batches_ = 0;
  size_t consumed_ = 0;  // next batch next() returns
  size_t claimed_ = 0;   // next batch a worker takes
  std::map<size_t, Slot> ready_;
  bool stop_ = false;
  std::mutex mutex_;
  std::condition_variable ready_cv_, space_cv_;
  std::vector<std::thread> threads_;
  mutable std::atomic<size_t> skipped_{0};
  size_t skipped_at_epoch_start_ = 0;
};

}  // namespace deeplab::data
