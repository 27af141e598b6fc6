#include "deeplab/train/trainer.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>

#include "deeplab/core/error.h"
#include "deeplab/data/dataset_factory.h"
#include "deeplab/data/transforms.h"
#include "deeplab/core/stop_signal.h"

namespace deeplab::train {
namespace {

std::unique_ptr<data::Loader> make_train_loader(const core::Config& config, const TrainerOptions& options) {
  auto dataset = data::make_dataset(config.data, config.data.train_split);
  auto loader_options = data::LoaderOptions::from_config(config.data, /*train=*/true,
                                                         static_cast<uint64_t>(config.runtime.seed));
  loader_options.rank = options.rank;
  loader_options.world_size = options.world_size;
  auto transform = data::Transform(data::TransformOptions::from_config(config.data, /*train=*/true));
  auto loader = std::make_unique<data::Loader>(dataset, transform, loader_options);
  if (loader->num_batches() == 0) {
    throw DataError("data.train_split '" + config.data.train_split + "' of " + config.data.root + " has " +
                    std::to_string(dataset->size()) + " images: not one batch of data.batch_size " +
                    std::to_string(config.data.batch_size));
  }
  return loader;
}

// The model on its device, BN frozen if asked, before the optimizer collects
// its trainable parameters.
torch::nn::Module& prepared(models::DeepLab& model, c10::Device device, bool freeze_bn) {
  model->to(device);
  if (freeze_bn) freeze_batch_norm(*model);
  return *model;
}

}  // namespace

void freeze_batch_norm(torch::nn::Module& model) {
  for (const auto& module : model.modules()) {
    if (auto* bn = dynamic_cast<torch::nn::BatchNorm2dImpl*>(module.get())) {
      bn->eval();
      for (auto& p : bn->parameters()) p.set_requires_grad(false);
    }
  }
}

Trainer::Trainer(core::Config config, models::DeepLab model, c10::Device device, TrainerOptions options)
    : config_(std::move(config)),
      model_(std::move(model)),
      device_(device),
      options_(std::move(options)),
      optimizer_(prepared(model_, device_, config_.train.freeze_bn), config_.train),
      schedule_(config_.train.lr, config_.train.max_iters, config_.train.schedule),
      loss_(config_.train.loss, config_.model.num_classes, config_.data.ignore_label),
      loader_(make_train_loader(config_, options_)) {
  if (config_.train.channels_last) {
    torch::NoGradGuard no_grad;
    for (auto& p : model_->parameters()) {
      if (p.dim() == 4) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
    }
  }
}

void Trainer::resume(const std::string& checkpoint) {
  state_ = load_checkpoint(checkpoint, *model_, optimizer_.optimizer());
  scaler_.restore(state_.loss_scale, static_cast<int>(state_.scaler_good_steps));
  loader_started_ = false;  // restart the loader at the saved position
}

void Trainer::set_train_mode() {
  model_->train();
  if (config_.train.freeze_bn) freeze_batch_norm(*model_);
}

data::Batch Trainer::next_batch() {
  if (!loader_started_) {
    loader_->start_epoch(state_.epoch, static_cast<size_t>(state_.batch_in_epoch));
    loader_started_ = true;
  }
  auto batch = loader_->next();
  if (!batch) {  // epoch done: the next one reshuffles (seed + epoch)
    ++state_.epoch;
    state_.batch_in_epoch = 0;
    loader_->start_epoch(state_.epoch);
    batch = loader_->next();
  }
  ++state_.batch_in_epoch;
  return std::move(*batch);
}

double Trainer::forward_backward(const data::Batch& batch) {
  auto images = batch.images.to(device_);
  if (config_.train.channels_last) images = images.contiguous(at::MemoryFormat::ChannelsLast);
  const auto labels = batch.labels.to(device_);
  torch::Tensor loss;
  {
    AutocastScope autocast(config_.train.amp, device_);
    loss = loss_.total(model_->forward_train(images), labels) / config_.train.accumulate;
  }
  const double value = loss.item<double>();
  if (std::isfinite(value)) (config_.train.amp == "fp16" ? scaler_.scale(loss) : loss).backward();
  return value;
}

void Trainer::apply_step(bool finite) {
  auto params = optimizer_.optimizer().param_groups();
  std::vector<torch::Tensor> all;
  for (auto& group : params) all.insert(all.end(), group.params().begin(), group.params().end());
  if (config_.train.amp == "fp16") {
    finite = scaler_.unscale(all) && finite;
    scaler_.update(finite);
  }
  if (!finite) {
    if (!config_.train.skip_nonfinite) {
      throw Error("non-finite loss at iteration " + std::to_string(state_.iteration + 1) +
                  "; the last checkpoint is in " + options_.work_dir +
                  "/checkpoints (set train.skip_nonfinite: true to skip such steps)");
    }
    ++state_.skipped_steps;
    return;
  }
  if (config_.train.clip_grad_norm > 0) torch::nn::utils::clip_grad_norm_(all, config_.train.clip_grad_norm);
  optimizer_.optimizer().step();
}

StepResult Trainer::run_step() {
  const auto start = std::chrono::steady_clock::now();
  set_train_mode();
  StepResult result;
  result.lr = schedule_.at(state_.iteration);
  optimizer_.set_lr(result.lr);
  optimizer_.optimizer().zero_grad();
  bool finite = true;
  for (int i = 0; i < config_.train.accumulate; ++i) {
    const data::Batch batch = next_batch();
    const double loss = forward_backward(batch);
    finite = finite && std::isfinite(loss);
    result.loss += loss;
    result.images += batch.images.size(0);
  }
  for (auto& hook : hooks_) hook->after_backward(*this);
  apply_step(finite);
  result.skipped = !finite;
  ++state_.iteration;
  state_.loss_scale = scaler_.current_scale();
  state_.scaler_good_steps = scaler_.good_steps();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  last_step_ = result;
  return result;
}

bool Trainer::run() {
  for (auto& hook : hooks_) hook->before_train(*this);
  while (state_.iteration < config_.train.max_iters && !stop_requested_) {
    run_step();
    for (auto& hook : hooks_) hook->after_step(*this);
    if (core::stop_requested()) stop_requested_ = true;
  }
  const bool interrupted = state_.iteration < config_.train.max_iters;
  for (auto& hook : hooks_) hook->after_train(*this, interrupted);
  return interrupted;
}

}  // namespace deeplab::train
