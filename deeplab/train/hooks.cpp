#include "deeplab/train/hooks.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <optional>
#include <sstream>

#include "deeplab/core/bench_stats.h"
#include "deeplab/core/error.h"
#include "deeplab/eval/metric_table.h"
#include "deeplab/eval/shard_merge.h"
#include "deeplab/train/checkpoint.h"
#include "deeplab/train/plots.h"
#include "deeplab/train/trainer.h"
#include "deeplab/train/weight_average.h"
#include "deeplab/weights/state_dict.h"

namespace deeplab::train {
namespace fs = std::filesystem;

void ProgressHook::before_train(Trainer& trainer) {
  const int64_t max_iters = trainer.options().max_iters;
  bar_ = std::make_unique<core::ProgressBar>("train", max_iters, "it", log_every_);
  bar_->update(trainer.state().iteration);
}

namespace {
// The terms the console line shows: deep supervision's per-layer terms
// ("aux0/pq_class", ...; kMaX-DeepLab has 24) summed into one "aux<0-5>"
// entry; metrics.jsonl and TensorBoard keep every term.
std::vector<std::pair<std::string, double>> console_terms(const StepResult& step) {
  std::vector<std::pair<std::string, double>> shown;
  double layers_sum = 0;
  int first = -1, last = -1;
  for (const auto& [name, value] : step.terms) {
    const size_t slash = name.find('/');
    if (name.rfind("aux", 0) != 0 || slash == std::string::npos || slash == 3) {
      shown.emplace_back(name, value);
      continue;
    }
    const int layer = std::atoi(name.substr(3, slash - 3).c_str());
    first = first < 0 ? layer : std::min(first, layer);
    last = std::max(last, layer);
    layers_sum += value;
  }
  if (first >= 0) shown.emplace_back("aux" + std::to_string(first) + "-" + std::to_string(last), layers_sum);
  return shown;
}

// "loss 0.8123 (semantic 0.7000, aux 0.1123) lr 0.001000 21.5 img/s"; one term needs no breakdown.
std::string step_line(const StepResult& step, int world_size) {
  std::ostringstream line;
  line << std::fixed << std::setprecision(4) << "loss " << step.loss;
  const auto terms = console_terms(step);
  if (terms.size() > 1) {
    line << " (";
    for (size_t i = 0; i < terms.size(); ++i) line << (i ? ", " : "") << terms[i].first << " " << terms[i].second;
    line << ")";
  }
  line << " lr " << std::setprecision(6) << step.lr << std::setprecision(1) << " "
       << (step.seconds > 0 ? step.images * world_size / step.seconds : 0) << " img/s";
  return line.str();
}
}  // namespace

void ProgressHook::after_step(Trainer& trainer) {
  const auto& step = trainer.last_step();
  loss_sum_ += step.loss;
  for (size_t i = 0; i < step.terms.size(); ++i) {
    if (term_sums_.size() <= i) term_sums_.emplace_back(step.terms[i].first, 0.0);
    term_sums_[i].second += step.terms[i].second;
  }
  window_seconds_ += step.seconds;
  reduce_wait_ += step.reduce.wait_seconds;
  if (step.reduce.buckets > 0) buckets_in_backward_ += double(step.reduce.launched_in_backward) / step.reduce.buckets;
  window_images_ += step.images * trainer.world_size();
  ++window_steps_;
  seconds_ += step.seconds;
  images_ += step.images * trainer.world_size();
  const int64_t it = trainer.state().iteration;
  if (trainer.is_main_process()) bar_->update(it, step_line(step, trainer.world_size()));
  if (it % log_every_ == 0 || it == trainer.options().max_iters) log_window(trainer);
}

void ProgressHook::log_window(Trainer& trainer) {
  if (trainer.is_main_process()) {
    TrainPoint point{trainer.state().iteration, loss_sum_ / window_steps_, trainer.last_step().lr,
                     window_images_ / std::max(window_seconds_, 1e-9)};
    for (const auto& [name, sum] : term_sums_) point.terms.emplace_back(name, sum / window_steps_);
    if (trainer.world_size() > 1) {
      // Seconds per step spent waiting for gradient all-reduces after backward
      // (what the overlap did not hide), and the share of buckets launched
      // while backward still ran.
      point.extras = {{"step_seconds", window_seconds_ / window_steps_},
                      {"allreduce_wait_seconds", reduce_wait_ / window_steps_},
                      {"buckets_launched_in_backward", buckets_in_backward_ / window_steps_}};
    }
    log_->add_train(point);
  }
  loss_sum_ = window_seconds_ = reduce_wait_ = buckets_in_backward_ = 0;
  window_images_ = window_steps_ = 0;
  term_sums_.clear();
}

void ProgressHook::after_train(Trainer& trainer, bool) {
  if (!trainer.is_main_process()) return;
  bar_->finish();
  spdlog::info("{} iterations, {:.1f} images/s on average, peak memory {:.0f} MiB", trainer.state().iteration,
               images_per_second(), core::peak_rss_mib());
}

// Every rank takes part (the generators of all ranks are gathered); rank 0 writes.
void CheckpointHook::save(Trainer& trainer) {
  const std::string dir = trainer.work_dir() + "/checkpoints";
  last_ = trainer.save_checkpoint(dir);
  last_iteration_ = trainer.state().iteration;
  if (trainer.is_main_process()) prune_checkpoints(dir, keep_);
}

void CheckpointHook::after_step(Trainer& trainer) {
  if (trainer.state().iteration % every_ == 0) save(trainer);
}

void CheckpointHook::after_train(Trainer& trainer, bool interrupted) {
  if (last_iteration_ != trainer.state().iteration) save(trainer);
  if (!trainer.is_main_process()) return;
  if (interrupted) {
    spdlog::info("stopped at iteration {}; checkpoint {}", trainer.state().iteration, last_);
    return;
  }
  weights::save_module_state_dict(*trainer.model(), trainer.work_dir() + "/final.pth");
}

EvalHook::EvalHook(std::shared_ptr<MetricsLog> log, std::shared_ptr<const data::Dataset> val, eval::EvalOptions options,
                   EvalHookOptions hook_options)
    : log_(std::move(log)), val_(std::move(val)), options_(std::move(options)), hook_options_(hook_options) {
  options_.progress = false;  // the training bar stays on screen
}

void EvalHook::evaluate(Trainer& trainer) {
  const int64_t it = trainer.state().iteration;
  // Each rank evaluates its shard; the sums make every image count once.
  options_.rank = trainer.options().rank;
  options_.world_size = trainer.world_size();
  // The first rows' image | ground truth | prediction, for val_samples.png.
  if (hook_options_.vis_samples > 0 && trainer.is_main_process()) {
    options_.outputs.vis_dir = trainer.work_dir() + "/val_samples";
    options_.outputs.vis_limit = static_cast<size_t>(hook_options_.vis_samples);
  }
  std::optional<WeightAverage::Applied> averaged;
  if (hook_options_.average) averaged.emplace(*hook_options_.average, *trainer.model());
  eval::EvalResult result = eval::evaluate(*trainer.model(), *val_, options_);
  averaged.reset();
  if (trainer.process_group()) eval::sum_across_ranks(result, *trainer.process_group());
  last_result_ = std::move(result);
  last_iteration_ = it;
  if (!trainer.is_main_process()) return;
  const double tracked = last_result_.score(hook_options_.tracked_score).value_or(0.0);
  const auto pq = last_result_.score("PQ");
  const double miou = last_result_.score("mIoU").value_or(0.0);
  const char* of = hook_options_.average ? " (weight average)" : "";
  if (pq) {
    spdlog::info("iteration {}: val PQ {:.2f} %, mIoU {:.2f} %{} ({} images, {:.1f} s)", it, 100 * *pq, 100 * miou, of,
                 last_result_.images, last_result_.seconds);
  } else {
    spdlog::info("iteration {}: val mIoU {:.2f} %{} ({} images, {:.1f} s)", it, 100 * miou, of, last_result_.images,
                 last_result_.seconds);
  }
  log_->add_eval({it, tracked, hook_options_.tracked_score, hook_options_.average ? "ema" : "model"},
                 eval::eval_result_json(last_result_).dump());
}

// Rank 0's shard holds samples 0, w, 2w, ...; the evaluator visualised its
// first rows (PredictionWriter, vis_limit).
std::vector<std::string> EvalHook::sample_paths(const Trainer& trainer) const {
  const size_t stride = static_cast<size_t>(trainer.world_size());
  const size_t count =
      std::min<size_t>(static_cast<size_t>(hook_options_.vis_samples), (val_->size() + stride - 1) / stride);
  if (count == 0 || options_.outputs.vis_dir.empty()) return {};
  const inference::PredictionWriter paths(options_.outputs);
  std::vector<std::string> rows;
  for (size_t i = 0; i < count; ++i) rows.push_back(paths.vis_path(val_->id(i * stride)));
  return rows;
}

void EvalHook::after_step(Trainer& trainer) {
  const int every = hook_options_.every;
  if (every > 0 && trainer.state().iteration % every == 0) evaluate(trainer);
}

void EvalHook::after_train(Trainer& trainer, bool interrupted) {
  if (!interrupted && last_iteration_ != trainer.state().iteration) evaluate(trainer);
}

TensorMap BestCheckpointHook::state_dict() const {
  return {{"best_score", state_scalar(best_score_)}, {"best_iteration", state_scalar(best_iteration_)}};
}

void BestCheckpointHook::load_state_dict(const TensorMap& state) {
  // Checkpoints before eval.best_metric called the score best_miou.
  best_score_ = state_double(state, "best_score", state_double(state, "best_miou", best_score_));
  best_iteration_ = state_int(state, "best_iteration", best_iteration_);
}

// An evaluation the hook has not seen yet: its score against the best.
void BestCheckpointHook::consider(Trainer& trainer) {
  const int64_t it = eval_->evaluated_at();
  if (it < 0 || it == seen_iteration_) return;
  seen_iteration_ = it;
  const eval::EvalResult& result = eval_->last_result();
  const std::optional<double> score = result.score(score_);
  if (!score) {
    std::string available;
    for (const auto& m : result.metrics) {
      for (const auto& [name, value] : m->scores()) available += (available.empty() ? "" : ", ") + name;
    }
    if (!eval::kind_giving(score_) || !result.metric(eval::kind_giving(score_)->name)) {
      throw ConfigError("eval.best_metric: '" + score_ + "' is not a score of this evaluation (it gives " + available +
                        ")");
    }
    return;  // given by this run's metrics but undefined this time (e.g. no instance in the split)
  }
  if (*score <= best_score_) return;
  best_score_ = *score;
  best_iteration_ = it;
  if (!trainer.is_main_process()) return;
  if (!average_) {
    weights::save_module_state_dict(*trainer.model(), trainer.work_dir() + "/best.pth");
    return;
  }
  const WeightAverage::Applied averaged(*average_, *trainer.model());
  weights::save_module_state_dict(*trainer.model(), trainer.work_dir() + "/best_ema.pth");
}

void BestCheckpointHook::after_step(Trainer& trainer) { consider(trainer); }
void BestCheckpointHook::after_train(Trainer& trainer, bool) { consider(trainer); }

void PlotHook::after_step(Trainer& trainer) {
  const int64_t it = eval_->evaluated_at();
  if (it < 0 || it == drawn_iteration_ || !trainer.is_main_process()) return;
  drawn_iteration_ = it;
  write_curves(*log_, trainer.work_dir() + "/curves.png");
  const std::vector<std::string> rows = eval_->sample_paths(trainer);
  if (!rows.empty()) write_samples_grid(rows, trainer.work_dir() + "/val_samples.png");
}

void PlotHook::after_train(Trainer& trainer, bool interrupted) {
  after_step(trainer);  // the end-of-run evaluation's pictures
  if (!interrupted && trainer.is_main_process()) write_curves(*log_, trainer.work_dir() + "/curves.png");
}

}  // namespace deeplab::train
