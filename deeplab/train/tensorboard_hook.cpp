#include "deeplab/train/tensorboard_hook.h"

#include <filesystem>
#include <map>

#include "deeplab/core/event_file.h"
#include "deeplab/core/fs_util.h"
#include "deeplab/eval/eval_result.h"
#include "deeplab/train/hooks.h"
#include "deeplab/train/metrics_log.h"
#include "deeplab/train/trainer.h"

namespace deeplab::train {

namespace ep = core::event_proto;

TensorBoardHook::TensorBoardHook(std::shared_ptr<const MetricsLog> log, std::shared_ptr<const EvalHook> eval,
                                 std::shared_ptr<const EvalHook> eval_ema, std::string config_yaml)
    : log_(std::move(log)),
      eval_(std::move(eval)),
      eval_ema_(std::move(eval_ema)),
      config_yaml_(std::move(config_yaml)) {}

TensorBoardHook::~TensorBoardHook() = default;

std::string TensorBoardHook::path() const { return writer_ ? writer_->path() : ""; }

void TensorBoardHook::before_train(Trainer& trainer) {
  if (!trainer.is_main_process()) return;
  writer_ = std::make_unique<core::EventFileWriter>(trainer.work_dir());
  const int64_t start = trainer.state().iteration;
  const double now = core::wall_time_now();
  if (start > 0) writer_->write(ep::session_start(now, start + 1));
  // Markdown: indented lines render as code, keeping the YAML's layout.
  std::string indented;
  for (size_t at = 0; at < config_yaml_.size();) {
    const size_t end = config_yaml_.find('\n', at);
    indented += "    " + config_yaml_.substr(at, end == std::string::npos ? std::string::npos : end - at) + "\n";
    at = end == std::string::npos ? config_yaml_.size() : end + 1;
  }
  writer_->write(ep::text(now, start, "config", indented));
  // Points the log kept from before a resume were written by the earlier run.
  train_written_ = log_->train().size();
  eval_written_ = eval_->evaluated_at();
  if (eval_ema_) eval_ema_written_ = eval_ema_->evaluated_at();
}

void TensorBoardHook::write_scores(const EvalHook& eval, int64_t& written, const std::string& prefix) {
  const int64_t evaluated = eval.evaluated_at();
  if (evaluated < 0 || evaluated == written) return;
  written = evaluated;
  const double now = core::wall_time_now();
  for (const auto& metric : eval.last_result().metrics) {
    for (const auto& [score, value] : metric->scores()) {
      writer_->write(ep::scalar(now, evaluated, prefix + "/" + score, static_cast<float>(value)));
    }
  }
}

void TensorBoardHook::write_new_points(Trainer& trainer) {
  if (!writer_) return;
  const auto& points = log_->train();
  for (; train_written_ < points.size(); ++train_written_) {
    const TrainPoint& p = points[train_written_];
    const double now = core::wall_time_now();
    writer_->write(ep::scalar(now, p.iteration, "train/loss", static_cast<float>(p.loss)));
    for (const auto& [name, value] : p.terms) {
      writer_->write(ep::scalar(now, p.iteration, "train/loss/" + name, static_cast<float>(value)));
    }
    writer_->write(ep::scalar(now, p.iteration, "train/lr", static_cast<float>(p.lr)));
    writer_->write(ep::scalar(now, p.iteration, "train/images_per_second", static_cast<float>(p.images_per_second)));
    for (const auto& [name, value] : p.extras) {
      writer_->write(ep::scalar(now, p.iteration, "train/" + name, static_cast<float>(value)));
    }
  }
  const int64_t shown = eval_written_;
  write_scores(*eval_, eval_written_, "eval");
  if (eval_ema_) write_scores(*eval_ema_, eval_ema_written_, "eval_ema");
  // PlotHook drew val_samples.png from this evaluation (it runs before this hook).
  const std::string samples = trainer.work_dir() + "/val_samples.png";
  if (eval_written_ != shown && std::filesystem::is_regular_file(samples)) {
    writer_->write(ep::image(core::wall_time_now(), eval_written_, "val_samples", core::read_file(samples)));
  }
}

void TensorBoardHook::after_step(Trainer& trainer) { write_new_points(trainer); }

void TensorBoardHook::after_train(Trainer& trainer, bool) {
  write_new_points(trainer);
  writer_.reset();
}

}  // namespace deeplab::train
