#include "deeplab/data/loader.h"

#include <ATen/ATen.h>
#include <opencv2/core/utility.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "deeplab/core/error.h"

namespace deeplab::data {
namespace {

using ChannelLut = std::array<std::array<float, 256>, 3>;  // 8-bit value -> normalised, per channel

/// One sample's normalised image (3 planes) and label into the top-left corner of its padded rows.
void copy_image_and_label(const Sample& s, const ChannelLut& lut, float* image, int64_t* label, int64_t width,
                          size_t plane) {
  for (int y = 0; y < s.image.rows; ++y) {
    const uint8_t* px = s.image.ptr<uint8_t>(y);
    const uint8_t* lb = s.label.ptr<uint8_t>(y);
    float* r = image + static_cast<size_t>(y) * static_cast<size_t>(width);
    int64_t* l = label + static_cast<size_t>(y) * static_cast<size_t>(width);
    for (int x = 0; x < s.image.cols; ++x) {
      r[x] = lut[0][px[3 * x]];
      r[plane + x] = lut[1][px[3 * x + 1]];
      r[2 * plane + x] = lut[2][px[3 * x + 2]];
      l[x] = lb[x];
    }
  }
}

/// Copies a CV_32FC<k> map channel-first into `dst`, k planes of `plane` floats with
/// rows `width` apart (the top-left corner of a padded [k, H, W] block).
void copy_planes(const cv::Mat& src, float* dst, int64_t width, size_t plane) {
  const int channels = src.channels();
  for (int y = 0; y < src.rows; ++y) {
    const float* row = src.ptr<float>(y);
    for (int c = 0; c < channels; ++c) {
      float* out = dst + static_cast<size_t>(c) * plane + static_cast<size_t>(y) * static_cast<size_t>(width);
      for (int x = 0; x < src.cols; ++x) out[x] = row[x * channels + c];
    }
  }
}

/// The batch's panoptic target tensors; a sample smaller than h x w is padded with 0
/// (no center, no offset, no loss).
void collate_panoptic(const std::vector<PanopticTargets>& targets, int64_t h, int64_t w, bool pinned, Batch& batch) {
  const auto n = static_cast<int64_t>(targets.size());
  const auto floats = at::TensorOptions(at::kFloat).pinned_memory(pinned);
  batch.center = at::zeros({n, 1, h, w}, floats);
  batch.offset = at::zeros({n, 2, h, w}, floats);
  batch.center_weights = at::zeros({n, h, w}, floats);
  batch.offset_weights = at::zeros({n, h, w}, floats);
  batch.semantic_weights = at::zeros({n, h, w}, floats);
  const size_t plane = static_cast<size_t>(h) * static_cast<size_t>(w);
  for (size_t i = 0; i < targets.size(); ++i) {
    const PanopticTargets& t = targets[i];
    copy_planes(t.center, batch.center.data_ptr<float>() + i * plane, w, plane);
    copy_planes(t.offset, batch.offset.data_ptr<float>() + 2 * i * plane, w, plane);
    copy_planes(t.center_weight, batch.center_weights.data_ptr<float>() + i * plane, w, plane);
    copy_planes(t.offset_weight, batch.offset_weights.data_ptr<float>() + i * plane, w, plane);
    copy_planes(t.semantic_weight, batch.semantic_weights.data_ptr<float>() + i * plane, w, plane);
  }
}

}  // namespace

LoaderOptions LoaderOptions::from_config(const DataConfig& c, bool train, uint64_t seed) {
  LoaderOptions o;
  o.batch_size = static_cast<size_t>(c.batch_size);
  o.workers = c.workers;
  o.prefetch = c.prefetch;
  o.drop_last = train && c.drop_last;
  o.skip_bad_samples = c.skip_bad_samples;
  o.train = train;
  o.seed = seed;
  o.normalization = Normalization::from(c.mean, c.std);
  return o;
}

Loader::Loader(std::shared_ptr<const Dataset> dataset, Transform transform, LoaderOptions options)
    : dataset_(std::move(dataset)),
      transform_(std::move(transform)),
      options_(options),
      sampler_(SamplerOptions{dataset_->size(), options.rank, options.world_size, options.train, options.seed}) {
  if (options_.batch_size == 0) throw ConfigError("loader batch size must be >= 1");
  if (options_.panoptic) panoptic_.emplace(*options_.panoptic);  // the Gaussian window, once
  // The loader parallelises over samples itself; OpenCV's own pool (OpenMP,
  // shared with LibTorch's) would only oversubscribe the cores and nest
  // parallel regions inside the training step's.
  cv::setNumThreads(0);
}

Loader::~Loader() { stop_workers(); }

size_t Loader::num_batches() const {
  const size_t n = sampler_.shard_size(), b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

void Loader::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  space_cv_.notify_all();
  ready_cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void Loader::start_epoch(int64_t epoch, size_t first_batch) {
  stop_workers();
  epoch_ = epoch;
  order_ = sampler_.indices(epoch);
  batches_ = num_batches();
  // A resumed run starts mid-epoch: batch b depends only on (seed, epoch,
  // rank, b), so skipping to it reproduces the uninterrupted stream.
  consumed_ = claimed_ = std::min(first_batch, batches_);
  ready_.clear();
  stop_ = false;
  skipped_at_epoch_start_ = skipped_.load();
  for (int i = 0; i < options_.workers; ++i) threads_.emplace_back([this] { worker_loop(); });
}

void Loader::worker_loop() {
#ifdef _OPENMP
  // ATen ops here (the batch's zero fill) would otherwise start an OpenMP team
  // of their own per worker, oversubscribing the cores the training step's
  // team is using; this setting is per thread, the trainer keeps its own.
  omp_set_num_threads(1);
#endif
  for (;;) {
    size_t b = 0;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      // Bounded prefetch: never run more than `prefetch` batches ahead of the consumer.
      space_cv_.wait(lock, [&] {
        return stop_ || claimed_ >= batches_ || claimed_ < consumed_ + static_cast<size_t>(options_.prefetch);
      });
      if (stop_ || claimed_ >= batches_) return;
      b = claimed_++;
    }
    Slot slot = load_batch(b);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ready_[b] = std::move(slot);
    }
    ready_cv_.notify_all();
  }
}

std::optional<Batch> Loader::next() {
  if (epoch_ < 0) throw Error("Loader::next() called before start_epoch()");
  for (;;) {
    if (consumed_ >= batches_) {
      const size_t skipped = skipped_.load() - skipped_at_epoch_start_;
      if (skipped > 0) spdlog::warn("data: skipped {} bad sample(s) in epoch {}", skipped, epoch_);
      skipped_at_epoch_start_ = skipped_.load();
      return std::nullopt;
    }
    Slot slot;
    if (threads_.empty()) {
      slot = load_batch(consumed_);
    } else {
      std::unique_lock<std::mutex> lock(mutex_);
      ready_cv_.wait(lock, [&] { return ready_.count(consumed_) > 0; });
      slot = std::move(ready_[consumed_]);
      ready_.erase(consumed_);
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++consumed_;
    }
    space_cv_.notify_all();
    if (slot.error) std::rethrow_exception(slot.error);
    if (slot.batch) return std::move(slot.batch);
    // Every sample of this batch was bad and skipped: go on to the next one.
  }
}

Loader::Slot Loader::load_batch(size_t b) const {
  Slot slot;
  try {
    const size_t begin = b * options_.batch_size, end = std::min(order_.size(), begin + options_.batch_size);
    std::vector<Sample> samples;
    std::vector<PanopticTargets> targets;
    std::vector<size_t> indices;
    std::vector<uint64_t> seeds;
    for (size_t pos = begin; pos < end; ++pos) {
      const size_t index = order_[pos];
      // Seeded by the sample's position in the global batch order (the
      // sampler interleaves ranks), so 2 ranks x batch 2 draw the crops and
      // flips of 1 x 4; one process keeps its historical stream (pos * 4096).
      const uint64_t global_pos = static_cast<uint64_t>(pos) * static_cast<uint64_t>(options_.world_size) +
                                  static_cast<uint64_t>(options_.rank);
      const uint64_t sample_key = mix_seed(options_.seed, static_cast<uint64_t>(epoch_));
      std::mt19937_64 rng(mix_seed(sample_key, global_pos * 4096));
      try {
        Sample s = dataset_->get(index);
        transform_.apply(s, rng);
        if (panoptic_) targets.push_back((*panoptic_)(s));  // on the crop, in this worker
        samples.push_back(std::move(s));
        indices.push_back(index);
        seeds.push_back(mix_seed(sample_key, global_pos * 4096 + 1));
      } catch (const Error& e) {
        if (!options_.skip_bad_samples) throw;
        spdlog::warn("data: skipping sample {} ({}): {}", index, dataset_->id(index), e.what());
        ++skipped_;
      }
    }
    if (!samples.empty()) {
      slot.batch = collate(samples, targets, indices);
      slot.batch->seeds = std::move(seeds);
    }
  } catch (...) {
    slot.error = std::current_exception();
  }
  return slot;
}

Batch Loader::collate(std::vector<Sample>& samples, const std::vector<PanopticTargets>& targets,
                      const std::vector<size_t>& indices) const {
  int h = 0, w = 0;
  bool with_instances = true;
  for (const auto& s : samples) {
    h = std::max(h, s.image.rows);
    w = std::max(w, s.image.cols);
    with_instances = with_instances && !s.instances.empty();
  }
  const int64_t n = static_cast<int64_t>(samples.size());
  Batch batch;
  // Zeros are the normalised mean, so smaller images in an eval batch pad with it.
  const bool pinned = options_.pin_memory;
  batch.images = at::zeros({n, 3, h, w}, at::TensorOptions(at::kFloat).pinned_memory(pinned));
  batch.labels = at::full({n, h, w}, dataset_->ignore_label(), at::TensorOptions(at::kLong).pinned_memory(pinned));
  if (with_instances) batch.instances = at::zeros({n, h, w}, at::kInt);
  ChannelLut lut{};
  for (size_t c = 0; c < 3; ++c) {
    for (int v = 0; v < 256; ++v)
      lut[c][static_cast<size_t>(v)] = (v / 255.0f - options_.normalization.mean[c]) / options_.normalization.std[c];
  }
  float* img = batch.images.data_ptr<float>();
  int64_t* lab = batch.labels.data_ptr<int64_t>();
  const size_t plane = static_cast<size_t>(h) * static_cast<size_t>(w);
  for (size_t i = 0; i < samples.size(); ++i) {
    const Sample& s = samples[i];
    copy_image_and_label(s, lut, img + i * 3 * plane, lab + i * plane, w, plane);
    if (with_instances) {
      int32_t* inst = batch.instances.data_ptr<int32_t>() + i * plane;
      for (int y = 0; y < s.instances.rows; ++y) {
        std::copy_n(s.instances.ptr<int32_t>(y), s.instances.cols, inst + static_cast<size_t>(y) * w);
      }
    }
    batch.ids.push_back(s.id);
  }
  if (panoptic_) collate_panoptic(targets, h, w, options_.pin_memory, batch);
  batch.indices = indices;
  return batch;
}

}  // namespace deeplab::data
