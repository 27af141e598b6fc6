#include "deeplab/train/trainer.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>

#include "deeplab/core/error.h"
#include "deeplab/core/stop_signal.h"

namespace deeplab::train {

TrainerOptions TrainerOptions::from_config(const TrainConfig& config, std::string work_dir, c10::Device device) {
  TrainerOptions o;
  o.work_dir = std::move(work_dir);
  o.max_iters = config.max_iters;
  o.accumulate = config.accumulate;
  o.amp = config.amp;
  o.channels_last = config.channels_last;
  o.clip_grad_norm = config.clip_grad_norm;
  o.skip_nonfinite = config.skip_nonfinite;
  o.device = device;
  return o;
}

Trainer::Trainer(models::DeepLab model, std::unique_ptr<data::Loader> loader, GroupedOptimizer optimizer,
                 LrSchedule schedule, LossFn loss, TrainerOptions options)
    : model_(std::move(model)),
      loader_(std::move(loader)),
      optimizer_(std::move(optimizer)),
      schedule_(std::move(schedule)),
      loss_(std::move(loss)),
      options_(std::move(options)) {
  if (!loader_) throw Error("Trainer: no loader given");
  if (!loss_) throw Error("Trainer: no loss given");
  model_->to(options_.device);
  if (options_.channels_last) {
    torch::NoGradGuard no_grad;
    for (auto& p : model_->parameters()) {
      if (p.dim() == 4) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
    }
  }
}

void Trainer::add_hook(std::shared_ptr<Hook> hook) {
  const auto pending = pending_hook_state_.find(hook->name());
  if (pending != pending_hook_state_.end()) {
    hook->load_state_dict(pending->second);
    pending_hook_state_.erase(pending);
  }
  hooks_.push_back(std::move(hook));
}

TensorMap Trainer::state_dict() const {
  return {{"iteration", state_scalar(state_.iteration)},
          {"epoch", state_scalar(state_.epoch)},
          {"batch_in_epoch", state_scalar(state_.batch_in_epoch)},
          {"skipped_steps", state_scalar(state_.skipped_steps)}};
}

void Trainer::load_state_dict(const TensorMap& state) {
  state_.iteration = state_int(state, "iteration", 0);
  state_.epoch = state_int(state, "epoch", 0);
  state_.batch_in_epoch = state_int(state, "batch_in_epoch", 0);
  state_.skipped_steps = state_int(state, "skipped_steps", 0);
}

// Random generators are per process: each rank resumes its own stream.
TensorMap Trainer::rank_state_dict() const {
  TensorMap state{{"rng.cpu", at::detail::getDefaultCPUGenerator().get_state()}};
  if (options_.device.is_cuda()) state["rng.cuda"] = at::globalContext().defaultGenerator(options_.device).get_state();
  return state;
}

void Trainer::load_rank_state_dict(const TensorMap& state) {
  const auto cpu = state.find("rng.cpu");
  if (cpu != state.end()) {
    at::Generator generator = at::detail::getDefaultCPUGenerator();  // a handle on the global one
    generator.set_state(cpu->second);
  }
  const auto cuda = state.find("rng.cuda");
  if (cuda != state.end() && options_.device.is_cuda()) {
    at::Generator generator = at::globalContext().defaultGenerator(options_.device);
    generator.set_state(cuda->second);
  }
}

std::string Trainer::save_checkpoint(const std::string& dir) {
  RunState run;
  run.trainer = state_dict();
  run.scaler = scaler_.state_dict();
  for (const auto& hook : hooks_) {
    auto state = hook->state_dict();
    if (!state.empty()) run.hooks[hook->name()] = std::move(state);
  }
  run.ranks[options_.rank] = rank_state_dict();
  return train::save_checkpoint(dir, state_.iteration, *model_, optimizer_.optimizer(), run);
}

void Trainer::resume(const std::string& checkpoint) {
  RunState run = load_checkpoint(checkpoint, *model_, optimizer_.optimizer());
  load_state_dict(run.trainer);
  scaler_.load_state_dict(run.scaler);
  const auto rank = run.ranks.find(options_.rank);
  if (rank != run.ranks.end()) load_rank_state_dict(rank->second);
  pending_hook_state_ = std::move(run.hooks);
  for (auto& hook : hooks_) {
    const auto pending = pending_hook_state_.find(hook->name());
    if (pending == pending_hook_state_.end()) continue;
    hook->load_state_dict(pending->second);
    pending_hook_state_.erase(pending);
  }
  loader_started_ = false;  // restart the loader at the saved position
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

Trainer::BatchLoss Trainer::forward_backward(data::Batch batch) {
  batch.images = batch.images.to(options_.device);
  if (options_.channels_last) batch.images = batch.images.contiguous(at::MemoryFormat::ChannelsLast);
  batch.labels = batch.labels.to(options_.device);
  LossTerms terms;
  torch::Tensor loss;
  {
    AutocastScope autocast(options_.amp, options_.device);
    terms = loss_(model_->forward_outputs(batch.images), batch);
    loss = total_loss(terms) / options_.accumulate;
  }
  // One device-to-host copy for the total and every term (not one sync each).
  std::vector<torch::Tensor> values{loss.detach().to(torch::kDouble)};
  for (const auto& term : terms) values.push_back(term.second.detach().to(torch::kDouble) / options_.accumulate);
  const torch::Tensor host = torch::stack(values).cpu();
  const double* v = host.data_ptr<double>();
  BatchLoss result{v[0], {}};
  for (size_t i = 0; i < terms.size(); ++i) result.terms.emplace_back(terms[i].first, v[i + 1]);
  if (std::isfinite(result.total)) (options_.amp == "fp16" ? scaler_.scale(loss) : loss).backward();
  return result;
}

void Trainer::apply_step(bool finite) {
  auto params = optimizer_.optimizer().param_groups();
  std::vector<torch::Tensor> all;
  for (auto& group : params) all.insert(all.end(), group.params().begin(), group.params().end());
  if (options_.amp == "fp16") {
    finite = scaler_.unscale(all) && finite;
    scaler_.update(finite);
  }
  if (!finite) {
    if (!options_.skip_nonfinite) {
      throw Error("non-finite loss at iteration " + std::to_string(state_.iteration + 1) +
                  "; the last checkpoint is in " + options_.work_dir +
                  "/checkpoints (set train.skip_nonfinite: true to skip such steps)");
    }
    ++state_.skipped_steps;
    return;
  }
  if (options_.clip_grad_norm > 0) torch::nn::utils::clip_grad_norm_(all, options_.clip_grad_norm);
  optimizer_.optimizer().step();
}

StepResult Trainer::run_step() {
  const auto start = std::chrono::steady_clock::now();
  model_->train();  // frozen norm layers stay in eval mode (models/layers/norm.h)
  StepResult result;
  result.lr = schedule_.at(state_.iteration);
  optimizer_.set_lr(result.lr);
  optimizer_.optimizer().zero_grad();
  bool finite = true;
  for (int i = 0; i < options_.accumulate; ++i) {
    data::Batch batch = next_batch();
    result.images += batch.images.size(0);
    const BatchLoss loss = forward_backward(std::move(batch));
    finite = finite && std::isfinite(loss.total);
    result.loss += loss.total;
    for (size_t t = 0; t < loss.terms.size(); ++t) {
      if (result.terms.size() <= t) result.terms.emplace_back(loss.terms[t].first, 0.0);
      result.terms[t].second += loss.terms[t].second;
    }
  }
  for (auto& hook : hooks_) hook->after_backward(*this);
  apply_step(finite);
  result.skipped = !finite;
  ++state_.iteration;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  last_step_ = result;
  return result;
}

bool Trainer::run() {
  for (auto& hook : hooks_) hook->before_train(*this);
  while (state_.iteration < options_.max_iters && !stop_requested_) {
    run_step();
    for (auto& hook : hooks_) hook->after_step(*this);
    if (core::stop_requested()) stop_requested_ = true;
  }
  const bool interrupted = state_.iteration < options_.max_iters;
  for (auto& hook : hooks_) hook->after_train(*this, interrupted);
  return interrupted;
}

}  // namespace deeplab::train
