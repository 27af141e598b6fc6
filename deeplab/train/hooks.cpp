#include "deeplab/train/hooks.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <torch/torch.h>

#include <filesystem>
#include <iomanip>
#include <sstream>

#include "deeplab/data/loader.h"
#include "deeplab/data/transforms.h"
#include "deeplab/export/state_dict.h"
#include "deeplab/train/checkpoint.h"
#include "deeplab/train/plots.h"
#include "deeplab/train/trainer.h"

namespace deeplab::train {
namespace fs = std::filesystem;

double peak_rss_mib() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;  // Linux reports KiB
}

void ProgressHook::before_train(Trainer& trainer) {
  const auto& train = trainer.config().train;
  bar_ = std::make_unique<core::ProgressBar>("train", train.max_iters, "it", train.log_every);
  bar_->update(trainer.state().iteration);
}

void ProgressHook::after_step(Trainer& trainer) {
  const auto& step = trainer.last_step();
  loss_sum_ += step.loss;
  window_seconds_ += step.seconds;
  window_images_ += step.images * trainer.world_size();
  ++window_steps_;
  seconds_ += step.seconds;
  images_ += step.images * trainer.world_size();
  const int64_t it = trainer.state().iteration;
  std::ostringstream detail;
  detail << std::fixed << std::setprecision(4) << "loss " << step.loss << " lr " << std::setprecision(6) << step.lr
         << std::setprecision(1) << " " << (step.seconds > 0 ? step.images * trainer.world_size() / step.seconds : 0)
         << " img/s";
  if (trainer.is_main_process()) bar_->update(it, detail.str());
  if (it % trainer.config().train.log_every == 0 || it == trainer.config().train.max_iters) {
    if (trainer.is_main_process()) {
      log_->add_train({it, loss_sum_ / window_steps_, step.lr, window_images_ / std::max(window_seconds_, 1e-9)});
    }
    loss_sum_ = window_seconds_ = 0;
    window_images_ = window_steps_ = 0;
  }
}

void ProgressHook::after_train(Trainer& trainer, bool) {
  if (!trainer.is_main_process()) return;
  bar_->finish();
  spdlog::info("{} iterations, {:.1f} images/s on average, peak memory {:.0f} MiB", trainer.state().iteration,
               images_per_second(), peak_rss_mib());
}

void CheckpointHook::save(Trainer& trainer) {
  if (!trainer.is_main_process()) return;
  const std::string dir = trainer.work_dir() + "/checkpoints";
  last_ = save_checkpoint(dir, *trainer.model(), trainer.optimizer().optimizer(), trainer.state());
  last_iteration_ = trainer.state().iteration;
  prune_checkpoints(dir, trainer.config().train.keep_checkpoints);
}

void CheckpointHook::after_step(Trainer& trainer) {
  if (trainer.state().iteration % trainer.config().train.checkpoint_every == 0) save(trainer);
}

void CheckpointHook::after_train(Trainer& trainer, bool interrupted) {
  if (last_iteration_ != trainer.state().iteration) save(trainer);
  if (!trainer.is_main_process()) return;
  if (interrupted) {
    spdlog::info("stopped at iteration {}; checkpoint {}", trainer.state().iteration, last_);
    return;
  }
  exporting::save_module_state_dict(*trainer.model(), trainer.work_dir() + "/final.pth");
}

EvalHook::EvalHook(std::shared_ptr<MetricsLog> log, std::shared_ptr<const data::Dataset> val,
                   eval::EvalOptions options, data::DatasetDescriptor descriptor)
    : log_(std::move(log)), val_(std::move(val)), options_(std::move(options)), descriptor_(std::move(descriptor)) {
  options_.progress = false;  // the training bar stays on screen
}

void EvalHook::evaluate(Trainer& trainer) {
  const int64_t it = trainer.state().iteration;
  last_eval_iteration_ = it;
  options_.rank = 0;
  options_.world_size = 1;
  const eval::EvalResult result = eval::evaluate(*trainer.model(), *val_, options_);
  const auto scores = result.scores();
  last_miou_ = scores.miou.value_or(0.0);
  if (!trainer.is_main_process()) return;
  spdlog::info("iteration {}: val mIoU {:.2f} % ({} images, {:.1f} s)", it, 100 * last_miou_, result.images,
               result.seconds);
  log_->add_eval({it, last_miou_}, eval::eval_result_json(result, options_.class_names).dump());
  auto& state = trainer.state();
  if (last_miou_ > state.best_miou) {
    state.best_miou = last_miou_;
    state.best_iteration = it;
    exporting::save_module_state_dict(*trainer.model(), trainer.work_dir() + "/best.pth");
  }
  write_curves(*log_, trainer.work_dir() + "/curves.png");
  write_samples(trainer);
}

void EvalHook::write_samples(Trainer& trainer) {
  const int count = std::min<int>(trainer.config().train.vis_samples, static_cast<int>(val_->size()));
  if (count == 0) return;
  // The first validation images through the evaluation pipeline (decode,
  // normalise, pad) of the data library, one at a time.
  const auto& data = trainer.config().data;
  auto options = data::LoaderOptions::from_config(data, /*train=*/false, 0);
  options.batch_size = 1;
  options.workers = 0;
  data::Loader loader(val_, data::Transform(data::TransformOptions::from_config(data, /*train=*/false)), options);
  loader.start_epoch(0);
  auto& model = *trainer.model();
  const bool was_training = model.is_training();
  model.eval();
  torch::NoGradGuard no_grad;
  std::vector<VisRow> rows;
  for (int i = 0; i < count; ++i) {
    const auto batch = loader.next();
    if (!batch) break;
    const auto logits = model.forward(batch->images.to(trainer.device()));
    rows.push_back({batch->images[0], batch->labels[0], logits.argmax(1)[0].cpu()});
  }
  model.train(was_training);
  write_samples_grid(rows, descriptor_, data.mean, data.std, trainer.work_dir() + "/val_samples.png");
}

void EvalHook::after_step(Trainer& trainer) {
  const int every = trainer.config().train.eval_every;
  if (every > 0 && trainer.state().iteration % every == 0) evaluate(trainer);
}

void EvalHook::after_train(Trainer& trainer, bool interrupted) {
  if (!interrupted && last_eval_iteration_ != trainer.state().iteration) evaluate(trainer);
  if (!interrupted) write_curves(*log_, trainer.work_dir() + "/curves.png");
}

}  // namespace deeplab::train
