#include "deeplab/train/trainer.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>

#include "deeplab/core/error.h"
#include "deeplab/core/runtime.h"
#include "deeplab/core/stop_signal.h"
#include "deeplab/data/sampler.h"
#include "deeplab/models/layers/norm.h"

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

TrainerOptions& TrainerOptions::distributed(std::shared_ptr<core::ProcessGroup> process_group) {
  group = std::move(process_group);
  rank = group ? group->rank() : 0;
  world_size = group ? group->world_size() : 1;
  return *this;
}

namespace {

// Every rank starts from rank 0's weights and statistics.
void broadcast_model(torch::nn::Module& model, core::ProcessGroup& group) {
  std::vector<torch::Tensor> tensors = model.parameters();
  for (const auto& b : model.buffers()) tensors.push_back(b);
  group.broadcast(tensors, 0);
}

std::vector<torch::Tensor> trainable_parameters(torch::nn::Module& model) {
  std::vector<torch::Tensor> params;
  for (const auto& p : model.parameters()) {
    if (p.requires_grad()) params.push_back(p);
  }
  return params;
}

// Rank 0 keeps the run's seed (its stream is a single process's); the other
// ranks get their own, so they do not share dropout masks.
uint64_t rank_seed(uint64_t seed, int rank) {
  return rank == 0 ? seed : data::mix_seed(seed, static_cast<uint64_t>(rank));
}

}  // namespace

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
  if (options_.dtype != c10::kFloat) model_->to(options_.dtype);
  if (options_.channels_last) {
    torch::NoGradGuard no_grad;
    for (auto& p : model_->parameters()) {
      if (p.dim() == 4) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
    }
  }
  if (options_.group && options_.group->world_size() > 1) {
    group_ = options_.group;
    options_.rank = group_->rank();
    options_.world_size = group_->world_size();
    broadcast_model(*model_, *group_);
    models::set_norm_process_group(*model_, group_);
    reducer_ = std::make_unique<GradReducer>(trainable_parameters(*model_), group_, options_.reducer);
    core::seed_everything(rank_seed(options_.seed, options_.rank));
  }
}

void Trainer::add_hook(std::shared_ptr<Hook> hook) {
  restore_hook_state(*hook);
  hooks_.push_back(std::move(hook));
}

// The state a resumed checkpoint saved for `hook`, under its name or, from
// an older checkpoint, one of its earlier names.  The state stays pending:
// hooks split from one older hook (eval -> eval, best) each read it.
void Trainer::restore_hook_state(Hook& hook) {
  std::vector<std::string> names = hook.earlier_names();
  names.insert(names.begin(), hook.name());
  for (const std::string& name : names) {
    const auto pending = pending_hook_state_.find(name);
    if (pending == pending_hook_state_.end()) continue;
    hook.load_state_dict(pending->second);
    return;
  }
}

TensorMap Trainer::state_dict() const {
  return {{"iteration", state_scalar(state_.iteration)},
          {"epoch", state_scalar(state_.epoch)},
          {"batch_in_epoch", state_scalar(state_.batch_in_epoch)},
          {"skipped_steps", state_scalar(state_.skipped_steps)},
          {"world_size", state_scalar(static_cast<int64_t>(options_.world_size))}};
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
    generator.set_state(cpu->second.cpu());                          // a checkpoint read onto a GPU holds it there
  }
  const auto cuda = state.find("rng.cuda");
  if (cuda != state.end() && options_.device.is_cuda()) {
    at::Generator generator = at::globalContext().defaultGenerator(options_.device);
    generator.set_state(cuda->second.cpu());
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
  const TensorMap mine = rank_state_dict();
  if (group_) {
    // Every rank's generators, gathered (the same keys and sizes on every rank).
    for (const auto& [key, value] : mine) {
      const auto all = group_->all_gather(value);
      for (int r = 0; r < options_.world_size; ++r) run.ranks[r][key] = all[static_cast<size_t>(r)];
    }
  } else {
    run.ranks[options_.rank] = mine;
  }
  std::string path;
  if (is_main_process()) path = train::save_checkpoint(dir, state_.iteration, *model_, optimizer_.optimizer(), run);
  if (group_) group_->barrier();  // no rank runs ahead of a checkpoint being written
  return path;
}

void Trainer::reseed_for_new_world(int64_t saved_world_size) {
  const uint64_t seed =
      data::mix_seed(rank_seed(options_.seed, options_.rank), static_cast<uint64_t>(state_.iteration));
  core::seed_everything(seed);
  if (is_main_process()) {
    spdlog::warn(
        "resuming a run of {} process(es) with {}: random generators re-seeded from (seed, rank, iteration); "
        "the run continues, but not bit-exactly as it would have",
        saved_world_size, options_.world_size);
  }
}

void Trainer::resume(const std::string& checkpoint) {
  RunState run = load_checkpoint(checkpoint, *model_, optimizer_.optimizer());
  load_state_dict(run.trainer);
  scaler_.load_state_dict(run.scaler);
  const int64_t saved_world_size = state_int(run.trainer, "world_size", 1);
  const auto rank = run.ranks.find(options_.rank);
  if (saved_world_size == options_.world_size && rank != run.ranks.end()) {
    load_rank_state_dict(rank->second);
  } else {
    reseed_for_new_world(saved_world_size);
  }
  pending_hook_state_ = std::move(run.hooks);
  for (auto& hook : hooks_) restore_hook_state(*hook);
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

// Pinned batches (data.pin_memory on CUDA) copy asynchronously: the copies
// queue on the stream ahead of the forward pass that reads them.
void Trainer::move_to_device(data::Batch& batch) const {
  const auto& device = options_.device;
  const bool non_blocking = device.is_cuda() && batch.images.is_pinned();
  batch.images = batch.images.to(device, options_.dtype, non_blocking);
  if (options_.channels_last) batch.images = batch.images.contiguous(at::MemoryFormat::ChannelsLast);
  batch.labels = batch.labels.to(device, non_blocking);
  for (auto* target :
       {&batch.center, &batch.center_weights, &batch.offset, &batch.offset_weights, &batch.semantic_weights}) {
    if (target->defined()) *target = target->to(device, non_blocking);
  }
}

Trainer::BatchLoss Trainer::forward_backward(data::Batch batch, bool last_of_step, StepTimes& times) {
  const auto start = std::chrono::steady_clock::now();
  move_to_device(batch);
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
  const auto forward_done = std::chrono::steady_clock::now();
  times.forward += std::chrono::duration<double>(forward_done - start).count();
  if (reducer_ && last_of_step) reducer_->prepare_for_backward();
  // A non-finite rank still runs backward in a distributed run: its gradient
  // buckets must fire, or the other ranks would wait for them forever.
  if (std::isfinite(result.total) || reducer_) (options_.amp == "fp16" ? scaler_.scale(loss) : loss).backward();
  times.backward += std::chrono::duration<double>(std::chrono::steady_clock::now() - forward_done).count();
  return result;
}

bool Trainer::apply_step(bool loss_finite) {
  auto params = optimizer_.optimizer().param_groups();
  std::vector<torch::Tensor> all;
  for (auto& group : params) all.insert(all.end(), group.params().begin(), group.params().end());
  if (!loss_finite) {
    if (!options_.skip_nonfinite) {
      throw Error("non-finite loss at iteration " + std::to_string(state_.iteration + 1) +
                  "; the last checkpoint is in " + options_.work_dir +
                  "/checkpoints (set train.skip_nonfinite: true to skip such steps)");
    }
    if (options_.amp == "fp16") scaler_.update(false);
    ++state_.skipped_steps;
    return false;
  }
  if (options_.amp == "fp16") {
    // Scaled fp16 gradients overflow now and then, the first steps above all
    // (the scale starts at 2^16): as PyTorch's GradScaler, the step is
    // skipped and the scale halved; it is no error.
    const bool grads_finite = scaler_.unscale(all);
    scaler_.update(grads_finite);
    if (!grads_finite) {
      ++state_.skipped_steps;
      return false;
    }
  }
  if (options_.clip_grad_norm > 0) torch::nn::utils::clip_grad_norm_(all, options_.clip_grad_norm);
  optimizer_.optimizer().step();
  return true;
}

StepResult Trainer::run_step() {
  const auto start = std::chrono::steady_clock::now();
  model_->train();  // frozen norm layers stay in eval mode (models/layers/norm.h)
  StepResult result;
  result.lr = schedule_.at(state_.iteration);
  optimizer_.set_lr(result.lr);
  optimizer_.optimizer().zero_grad();
  bool finite = true;
  using Clock = std::chrono::steady_clock;
  const auto seconds_since = [](Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
  };
  for (int i = 0; i < options_.accumulate; ++i) {
    const auto wait = Clock::now();
    data::Batch batch = next_batch();
    result.times.data += seconds_since(wait);
    result.images += batch.images.size(0);
    const BatchLoss loss = forward_backward(std::move(batch), i + 1 == options_.accumulate, result.times);
    finite = finite && std::isfinite(loss.total);
    result.loss += loss.total;
    for (size_t t = 0; t < loss.terms.size(); ++t) {
      if (result.terms.size() <= t) result.terms.emplace_back(loss.terms[t].first, 0.0);
      result.terms[t].second += loss.terms[t].second;
    }
  }
  const auto update_start = Clock::now();
  if (reducer_) {
    reducer_->finish();
    result.reduce = reducer_->last_stats();
  }
  agree_across_ranks(result, finite);
  for (auto& hook : hooks_) hook->after_backward(*this);
  const bool applied = apply_step(finite);
  // As torch DDP's broadcast_buffers, but after the step so that hooks
  // (evaluation, checkpoints) see the same model on every rank: rank 0's
  // buffers (plain BN's running statistics would drift apart per rank, and
  // a sharded evaluation would score a mix of models).
  if (group_) group_->broadcast(model_->buffers(), 0);
  result.times.update = seconds_since(update_start);
  result.skipped = !applied;
  ++state_.iteration;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  last_step_ = result;
  return result;
}

// One all-reduce after the gradients: whether any rank's loss was
// non-finite, whether any rank was asked to stop, and the loss terms (each
// rank's is its share of the global mean, so the sum is the global loss).
// Every rank then takes the same decisions and no rank waits in a collective
// the others skipped.  (The fp16 scaler's decision needs nothing more: it
// reads gradients that are already the same on every rank.)
void Trainer::agree_across_ranks(StepResult& result, bool& finite) {
  const bool stop = stop_requested_ || core::stop_requested();
  if (!group_) {
    result.stop = stop;
    return;
  }
  std::vector<double> values{finite ? 0.0 : 1.0, stop ? 1.0 : 0.0, result.loss};
  for (const auto& term : result.terms) values.push_back(term.second);
  auto agreed = torch::tensor(values, torch::kDouble);
  group_->all_reduce(agreed);
  const double* v = agreed.data_ptr<double>();
  finite = v[0] == 0;
  result.stop = v[1] > 0;
  result.loss = v[2];
  for (size_t t = 0; t < result.terms.size(); ++t) result.terms[t].second = v[3 + t];
}

bool Trainer::run() {
  for (auto& hook : hooks_) hook->before_train(*this);
  // Distributed: only the agreed decision stops a rank (a local request
  // joins the next step's agreement), so every rank stops at the same step.
  bool stop = !group_ && stop_requested_;
  while (state_.iteration < options_.max_iters && !stop) {
    run_step();
    for (auto& hook : hooks_) hook->after_step(*this);
    stop = group_ ? last_step_.stop : (last_step_.stop || stop_requested_ || core::stop_requested());
  }
  const bool interrupted = state_.iteration < options_.max_iters;
  for (auto& hook : hooks_) hook->after_train(*this, interrupted);
  return interrupted;
}

}  // namespace deeplab::train
