// `deeplab predict (-c CONFIG --weights W | --model model.pt) INPUT... [--out DIR]
//  [--overlay] [--no-color] [--crf] [--tta] [--batch-size B] [--set k=v ...]`: segments the user's own
// images, folders of images (recursive, sorted) and videos, and writes label
// PNGs, colourised masks and overlays (eval/predict_files.h, predict_video.h).

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <iostream>

#include "deeplab/core/config_tree.h"
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
#include "deeplab/export/exported_model.h"
#include "deeplab/export/model_io.h"
#include "deeplab/export/panoptic_export.h"
#include "deeplab/models/factory.h"
#include "deeplab/models/inference.h"
#include "tools/commands.h"

namespace deeplab::tools {
namespace {

struct PredictArgs {
  std::string config, weights, model, out = "predictions";
  std::vector<std::string> inputs, sets, flag_sets;  // flag_sets: --fold-bn & co, applied after --set
  bool overlay = false, no_color = false, crf = false, tta = false, no_progress = false;
  int batch_size = 1;
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

// What one predict run needs, from a config + weights or from an exported file.
struct PredictSetup {
  c10::Device device{c10::kCPU};
  eval::PredictorOptions predictor;
  eval::PredictFilesOptions files;
  eval::OutputsFn outputs;
  std::string model_name;
  std::shared_ptr<void> keep_alive;  // the model the outputs function runs
};

void apply_common_args(const PredictArgs& args, const experiment::Config& config, PredictSetup& setup) {
  set_test_time_augmentation(setup.predictor, args.tta);
  setup.files.out_dir = args.out;
  setup.files.color = !args.no_color;
  setup.files.overlay = args.overlay;
  if (config.eval.crf.enabled || args.crf) setup.files.crf = config.eval.crf.options;
  setup.files.workers = config.data.workers;
  setup.files.progress = !args.no_progress;
  setup.files.batch_size = args.batch_size;
}

PredictSetup setup_from_config(const PredictArgs& args) {
  experiment::Config config = experiment::load_config(args.config, with_flag_overrides(args.sets, args.flag_sets));
  core::set_config_log_level(config.runtime.log_level);
  if (config.eval.output_stride != 0) config.model = models::at_output_stride(config.model, config.eval.output_stride);
  PredictSetup setup;
  setup.device = core::apply_runtime(config.runtime);
  auto model = std::make_shared<models::DeepLab>(exporting::load_model(config.model, args.weights));
  (*model)->to(setup.device);
  prepare_inference_model(**model, config.eval.inference);

  const eval::EvalOptions eval_options = experiment::make_eval_options(config, **model);
  setup.predictor = eval_options.predictor;
  apply_common_args(args, config, setup);
  setup.files.descriptor = data::load_config_descriptor(config.data);
  // The palette `deeplab eval --save-pred` writes VOC predictions with.
  auto& descriptor = setup.files.descriptor;
  if (!descriptor.submission_palette.empty()) descriptor.palette = descriptor.submission_palette;
  setup.files.normalization = eval_options.normalization;
  setup.files.panoptic = eval_options.panoptic;  // set for a panoptic model
  const models::InferenceOptions inference = config.eval.inference;
  setup.outputs = [model, inference](const at::Tensor& x) { return models::infer_outputs(**model, x, inference); };
  setup.keep_alive = model;
  setup.model_name = exporting::describe_arch(config.model);
  return setup;
}

// An exported file carries its classes, palette and normalisation; the
// eval:/runtime: keys still come from --set (threads, amp, scales ...).
PredictSetup setup_from_export(const PredictArgs& args) {
  core::ConfigTree tree;
  for (const auto& s : with_flag_overrides(args.sets, args.flag_sets)) core::apply_override(tree, s);
  experiment::Config config = experiment::config_from_tree(tree);
  core::set_config_log_level(config.runtime.log_level);
  PredictSetup setup;
  setup.device = core::apply_runtime(config.runtime);
  auto model = std::make_shared<exporting::ExportedModel>(args.model, setup.device);
  const exporting::ExportMetadata& meta = model->meta();
  if (meta.palette.size() != meta.class_names.size()) {
    throw IoError(args.model + ": meta.json has " + std::to_string(meta.palette.size()) + " palette colours for " +
                  std::to_string(meta.class_names.size()) + " classes (exported before palettes were; export it again)");
  }
  config.eval.pad_to_stride = model->pad_to_stride();
  setup.predictor = eval::PredictorOptions::from_config(config.eval, model->output_stride(), model->align_corners());
  apply_common_args(args, config, setup);
  setup.files.descriptor.classes = meta.class_names;
  for (const auto& c : meta.palette) {
    setup.files.descriptor.palette.push_back(
        {static_cast<uint8_t>(c.at(0)), static_cast<uint8_t>(c.at(1)), static_cast<uint8_t>(c.at(2))});
  }
  setup.files.normalization = data::Normalization::from(meta.mean, meta.std);
  const models::InferenceOptions inference = config.eval.inference;
  if (model->is_panoptic()) {
    eval::PanopticEvalOptions panoptic;
    panoptic.postprocess = exporting::panoptic_options_from_metadata(meta);
    setup.files.descriptor.things = panoptic.postprocess.thing_ids;
    exporting::apply_panoptic_category_ids(meta, setup.files.descriptor);
    panoptic.categories = eval::panoptic_categories(setup.files.descriptor);
    setup.files.panoptic = panoptic;
  }
  setup.outputs = [model, inference](const at::Tensor& x) {
    return models::infer_outputs([&model](const at::Tensor& input) { return model->outputs(input); }, x, inference);
  };
  setup.keep_alive = model;
  setup.model_name = meta.arch + " (" + args.model + ")";
  return setup;
}

void run_predict(const PredictArgs& args) {
  if (args.model.empty() == (args.config.empty() || args.weights.empty())) {
    throw ConfigError("predict: give either -c CONFIG --weights W, or --model model.pt (an export), not both");
  }
  const data::InputFiles inputs = data::collect_input_files(args.inputs);
  const PredictSetup setup = args.model.empty() ? setup_from_config(args) : setup_from_export(args);
  const eval::PredictFilesOptions& options = setup.files;
  spdlog::info("predict: {} images, {} videos with {} ({} scale(s){}{}), {} thread(s), {}", inputs.images.size(),
               inputs.videos.size(), setup.model_name, setup.predictor.scales.size(),
               setup.predictor.flip ? " + flip" : "", options.crf ? " + CRF" : "", at::get_num_threads(),
               setup.device.str());
  const eval::Predictor predictor(setup.outputs, setup.predictor);
  // A file that fails is named at the end and makes the run exit 1; the
  // others go on, and what they wrote stays.
  std::vector<std::string> failed;
  for (const auto& video : inputs.videos) {
    try {
      const eval::VideoReport v = eval::predict_video(predictor, video, options, setup.device);
      std::cout << "wrote " << v.color_path << (v.overlay_path.empty() ? "" : " and " + v.overlay_path) << ": "
                << v.frames << " frames of " << v.width << "x" << v.height << " at " << v.fps << " fps in "
                << v.seconds << " s\n";
    } catch (const IoError& e) {
      spdlog::error("{}", e.what());
      failed.push_back(e.what());
    }
  }
  if (!inputs.images.empty()) {
    const eval::PredictReport report = eval::predict_image_files(predictor, inputs.images, options, setup.device);
    std::cout << "wrote " << report.written << " of " << inputs.images.size() << " images to " << args.out << " in "
              << report.seconds << " s\n";
    failed.insert(failed.end(), report.unreadable.begin(), report.unreadable.end());
  }
  if (!failed.empty()) {
    std::string list;
    for (const auto& line : failed) list += "\n  " + line;
    throw IoError("could not read " + std::to_string(failed.size()) + " of " +
                  std::to_string(inputs.images.size() + inputs.videos.size()) + " inputs (nothing written for them):" +
                  list);
  }
}

}  // namespace

void add_predict_command(CLI::App& app) {
  auto args = std::make_shared<PredictArgs>();
  auto* cmd = app.add_subcommand("predict", "segment your own images and folders: label PNGs, colour masks, overlays");
  cmd->add_option("-c,--config", args->config, "experiment YAML (model, dataset descriptor: classes and colours)");
  cmd->add_option("--weights", args->weights, "model weights (from deeplab train or deeplab import)");
  cmd->add_option("--model", args->model, "an exported TorchScript file instead of -c/--weights (its meta.json "
                                          "gives classes, palette and normalisation)");
  cmd->add_option("inputs", args->inputs, "image files, folders of them (searched recursively) and video files")
      ->required();
  cmd->add_option("--out", args->out, "output folder (default: predictions)");
  cmd->add_flag("--overlay", args->overlay, "also write <name>_overlay.png: the image with the colours blended in");
  cmd->add_flag("--no-color", args->no_color, "do not write <name>_color.png");
  cmd->add_flag("--crf", args->crf, "refine with the dense CRF (eval.crf settings; on anyway when eval.crf.enabled)");
  cmd->add_flag("--tta", args->tta, "multi-scale + flip: eval.scales / eval.flip, or 0.5..1.75 + flip");
  cmd->add_option("--set", args->sets, "override a key: --set runtime.threads=2 (repeatable)");
  cmd->add_flag("--no-progress", args->no_progress, "no progress bar or progress lines");
  cmd->add_option("--batch-size", args->batch_size, "images of one size (or video frames) per forward pass; a size change ends a batch")
      ->capture_default_str()
      ->check(at_least(1));
  add_inference_flags(*cmd, args->flag_sets);
  cmd->callback([args] { run_predict(*args); });
}

}  // namespace deeplab::tools
