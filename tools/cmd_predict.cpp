// `deeplab predict -c CONFIG --weights W INPUT... [--out DIR] [--overlay]
//  [--no-color] [--crf] [--tta] [--set k=v ...]`: segments the user's own
// images, folders of images (recursive, sorted) and videos, and writes label
// PNGs, colourised masks and overlays (eval/predict_files.h, predict_video.h).

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <iostream>

#include "deeplab/core/error.h"
#include "deeplab/core/logging.h"
#include "deeplab/core/runtime.h"
#include "deeplab/data/dataset_factory.h"
#include "deeplab/data/image_files.h"
#include "deeplab/eval/evaluator.h"
#include "deeplab/eval/predict_files.h"
#include "deeplab/eval/predict_video.h"
#include "deeplab/experiment/config.h"
#include "deeplab/experiment/make_trainer.h"
#include "deeplab/export/model_io.h"
#include "deeplab/models/factory.h"
#include "tools/commands.h"

namespace deeplab::tools {
namespace {

struct PredictArgs {
  std::string config, weights, out = "predictions";
  std::vector<std::string> inputs, sets;
  bool overlay = false, no_color = false, crf = false, tta = false, no_progress = false;
};

// Without --tta one plain pass; with it the config's scales and flip, or the
// papers' six scales + flip when the config has none.
void set_test_time_augmentation(eval::PredictorOptions& p, bool tta) {
  if (!tta) {
    p.scales = {1.0};
    p.flip = false;
  } else if (p.scales.size() == 1 && !p.flip) {
    p.scales = {0.5, 0.75, 1.0, 1.25, 1.5, 1.75};
    p.flip = true;
  }
}

void run_predict(const PredictArgs& args) {
  experiment::Config config = experiment::load_config(args.config, args.sets);
  core::set_config_log_level(config.runtime.log_level);
  if (models::is_panoptic(config.model)) {
    throw ConfigError("predict: " + args.config + " is a panoptic model; predict writes semantic outputs only so far");
  }
  const data::InputFiles inputs = data::collect_input_files(args.inputs);
  if (config.eval.output_stride != 0) config.model = models::at_output_stride(config.model, config.eval.output_stride);
  const c10::Device device = core::apply_runtime(config.runtime);
  models::DeepLab model = exporting::load_model(config.model, args.weights);
  model->to(device);
  model->eval();

  eval::EvalOptions eval_options = experiment::make_eval_options(config, *model);
  set_test_time_augmentation(eval_options.predictor, args.tta);
  eval::PredictFilesOptions options;
  options.out_dir = args.out;
  options.color = !args.no_color;
  options.overlay = args.overlay;
  options.descriptor = data::load_config_descriptor(config.data);
  // The palette `deeplab eval --save-pred` writes VOC predictions with.
  if (!options.descriptor.submission_palette.empty()) options.descriptor.palette = options.descriptor.submission_palette;
  options.normalization = eval_options.normalization;
  options.crf = eval_options.crf;
  if (args.crf && !options.crf) options.crf = config.eval.crf.options;
  options.workers = config.data.workers;
  options.progress = !args.no_progress;
  spdlog::info("predict: {} images, {} videos with {} ({} scale(s){}{}), {} thread(s), {}", inputs.images.size(),
               inputs.videos.size(),
               exporting::describe_arch(config.model), eval_options.predictor.scales.size(),
               eval_options.predictor.flip ? " + flip" : "", options.crf ? " + CRF" : "", at::get_num_threads(),
               device.str());
  const eval::Predictor predictor(
      eval::OutputsFn([&model](const at::Tensor& x) { return model->forward_outputs(x, false); }),
      eval_options.predictor);
  for (const auto& video : inputs.videos) {
    const eval::VideoReport v = eval::predict_video(predictor, video, options, device);
    std::cout << "wrote " << v.color_path << (v.overlay_path.empty() ? "" : " and " + v.overlay_path) << ": "
              << v.frames << " frames of " << v.width << "x" << v.height << " at " << v.fps << " fps in " << v.seconds
              << " s\n";
  }
  if (inputs.images.empty()) return;
  const eval::PredictReport report = eval::predict_image_files(predictor, inputs.images, options, device);
  std::cout << "wrote " << report.written << " of " << inputs.images.size() << " images to " << args.out << " in "
            << report.seconds << " s\n";
  if (!report.unreadable.empty()) {
    std::string list;
    for (const auto& line : report.unreadable) list += "\n  " + line;
    throw IoError("could not read " + std::to_string(report.unreadable.size()) + " of " +
                  std::to_string(inputs.images.size()) + " images:" + list);
  }
}

}  // namespace

void add_predict_command(CLI::App& app) {
  auto args = std::make_shared<PredictArgs>();
  auto* cmd = app.add_subcommand("predict", "segment your own images and folders: label PNGs, colour masks, overlays");
  cmd->add_option("-c,--config", args->config, "experiment YAML (model, dataset descriptor: classes and colours)")
      ->required();
  cmd->add_option("--weights", args->weights, "model weights (from deeplab train or deeplab import)")->required();
  cmd->add_option("inputs", args->inputs, "image files, folders of them (searched recursively) and video files")
      ->required();
  cmd->add_option("--out", args->out, "output folder (default: predictions)");
  cmd->add_flag("--overlay", args->overlay, "also write <name>_overlay.png: the image with the colours blended in");
  cmd->add_flag("--no-color", args->no_color, "do not write <name>_color.png");
  cmd->add_flag("--crf", args->crf, "refine with the dense CRF (eval.crf settings; on anyway when eval.crf.enabled)");
  cmd->add_flag("--tta", args->tta, "multi-scale + flip: eval.scales / eval.flip, or 0.5..1.75 + flip");
  cmd->add_option("--set", args->sets, "override a key: --set runtime.threads=2 (repeatable)");
  cmd->add_flag("--no-progress", args->no_progress, "no progress bar or progress lines");
  cmd->callback([args] { run_predict(*args); });
}

}  // namespace deeplab::tools
