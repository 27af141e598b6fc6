#include "deeplab/experiment/make_trainer.h"

#include <torch/torch.h>

#include "deeplab/core/error.h"
#include "deeplab/data/dataset_factory.h"
#include "deeplab/data/transforms.h"
#include "deeplab/eval/evaluator.h"
#include "deeplab/experiment/inference_session.h"
#include "deeplab/train/kmax_loss.h"
#include "deeplab/train/panoptic_loss.h"

namespace deeplab::experiment {

std::unique_ptr<data::Loader> make_train_loader(const Config& config, int rank, int world_size, c10::Device device) {
  auto dataset = data::make_dataset(config.data, config.data.train_split, data::DatasetUse::kTraining);
  auto options =
      data::LoaderOptions::from_config(config.data, /*train=*/true, static_cast<uint64_t>(config.runtime.seed));
  options.rank = rank;
  options.world_size = world_size;
  options.pin_memory = config.data.pin_memory && device.is_cuda();
  if (models::is_panoptic(config.model)) {
    options.panoptic = data::panoptic_target_options(config.data, data::load_config_descriptor(config.data));
  }
  auto transform = data::Transform(data::TransformOptions::from_config(config.data, /*train=*/true));
  auto loader = std::make_unique<data::Loader>(dataset, transform, options);
  if (loader->num_batches() == 0) {
    throw DataError("data.train_split '" + config.data.train_split + "' of " + config.data.root + " has " +
                    std::to_string(dataset->size()) + " images: not one batch of data.batch_size " +
                    std::to_string(config.data.batch_size));
  }
  return loader;
}

namespace {
train::LossFn make_loss(const Config& config, train::GlobalSum global_sum) {
  const int classes = config.model.num_classes, ignore = config.data.ignore_label;
  if (models::is_mask_transformer(config.model)) {
    return train::KMaXLoss::as_function(config.train.loss, classes, ignore,
                                        data::load_config_descriptor(config.data).things, std::move(global_sum));
  }
  if (models::is_panoptic(config.model)) {
    return train::PanopticLoss::as_function(config.train.loss, classes, ignore, std::move(global_sum));
  }
  return train::SegmentationLoss::as_function(config.train.loss, classes, ignore, std::move(global_sum));
}
}  // namespace

train::Trainer make_trainer(const Config& config, models::DeepLab model, c10::Device device,
                            const std::string& work_dir, std::shared_ptr<core::ProcessGroup> group) {
  const int rank = group ? group->rank() : 0, world_size = group ? group->world_size() : 1;
  auto loader = make_train_loader(config, rank, world_size, device);
  return make_trainer(config, std::move(model), device, work_dir, std::move(group), std::move(loader));
}

train::Trainer make_trainer(const Config& config, models::DeepLab model, c10::Device device,
                            const std::string& work_dir, std::shared_ptr<core::ProcessGroup> group,
                            std::unique_ptr<data::Loader> loader) {
  // On its device before the optimizer collects the trainable parameters.
  model->to(device);
  train::GroupedOptimizer optimizer(*model, model->head_parameters(), config.train);
  train::LrSchedule schedule(config.train.lr, config.train.max_iters, config.train.schedule);
  auto loss = make_loss(config, train::global_sum_over(group));
  auto options = train::TrainerOptions::from_config(config.train, work_dir, device);
  options.distributed(group);
  options.seed = static_cast<uint64_t>(config.runtime.seed);
  options.reducer.bucket_mb = config.runtime.dist_bucket_mb;
  options.reducer.overlap = config.runtime.dist_overlap;
  return train::Trainer(std::move(model), std::move(loader), std::move(optimizer), std::move(schedule), std::move(loss),
                        std::move(options));
}

StandardHooks add_standard_hooks(train::Trainer& trainer, const Config& config) {
  StandardHooks hooks;
  hooks.log = std::make_shared<train::MetricsLog>(trainer.work_dir(), trainer.state().iteration,
                                                  /*writer=*/trainer.is_main_process());
  hooks.progress = std::make_shared<train::ProgressHook>(hooks.log, config.train.log_every);
  hooks.checkpoint =
      std::make_shared<train::CheckpointHook>(config.train.checkpoint_every, config.train.keep_checkpoints);
  auto val = data::make_dataset(config.data, config.data.val_split, data::DatasetUse::kEvaluation);
  auto eval_options = make_eval_options(config, *trainer.model());
  eval_options.crf.reset();  // the CRF costs ~0.5 s an image and is fixed: it scores the net, not training
  // The live model is never folded; its inputs take the layout it trains in.
  eval_options.inference.fold_bn = false;
  eval_options.inference.channels_last = config.train.channels_last;
  const train::EvalHookOptions eval_hook{config.train.eval_every, config.train.vis_samples, config.eval.best_metric};
  hooks.eval = std::make_shared<train::EvalHook>(hooks.log, val, eval_options, eval_hook);
  hooks.best = std::make_shared<train::BestCheckpointHook>(hooks.eval, config.eval.best_metric);
  hooks.plots = std::make_shared<train::PlotHook>(hooks.log, hooks.eval);
  // Evaluation (and the best score) before checkpointing: a checkpoint of an
  // evaluated iteration then holds that evaluation's best score (format-1
  // checkpoints saved it one step stale).
  trainer.add_hook(hooks.progress);
  if (config.train.ema.enabled) {
    // The average is updated before anything evaluates or checkpoints it.
    auto average =
        std::make_shared<train::WeightAverage>(*trainer.model(), config.train.ema.decay, config.train.ema.start_iter);
    hooks.ema = std::make_shared<train::EmaHook>(average);
    train::EvalHookOptions ema_hook = eval_hook;
    ema_hook.vis_samples = 0;
    ema_hook.average = average;
    hooks.eval_ema = std::make_shared<train::EvalHook>(hooks.log, val, eval_options, ema_hook);
    hooks.best_ema = std::make_shared<train::BestCheckpointHook>(hooks.eval_ema, config.eval.best_metric, average);
    trainer.add_hook(hooks.ema);
  }
  trainer.add_hook(hooks.eval);
  trainer.add_hook(hooks.best);
  if (hooks.ema) {
    trainer.add_hook(hooks.eval_ema);
    trainer.add_hook(hooks.best_ema);
  }
  trainer.add_hook(hooks.plots);
  if (config.train.tensorboard) {
    hooks.tensorboard =
        std::make_shared<train::TensorBoardHook>(hooks.log, hooks.eval, hooks.eval_ema, config_to_yaml(config));
    trainer.add_hook(hooks.tensorboard);  // after plots: it sends the val_samples.png they draw
  }
  trainer.add_hook(hooks.checkpoint);
  return hooks;
}

}  // namespace deeplab::experiment
