// `deeplab predict (-c CONFIG --weights W | --model model.pt) INPUT... [--out DIR]
//  [--overlay] [--no-color] [--crf] [--tta] [--batch-size B] [--set k=v ...]`: segments the user's own
// images, folders of images (recursive, sorted) and videos, and writes label
// PNGs, colourised masks and overlays (inference/predict_files.h, predict_video.h).

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <iostream>

#include "deeplab/core/config_tree.h"
#include "deeplab/core/error.h"
#include "deeplab/data/image_files.h"
#include "deeplab/experiment/config.h"
#include "deeplab/experiment/inference_session.h"
#include "deeplab/inference/predict_files.h"
#include "deeplab/inference/predict_video.h"
#include "tools/commands.h"

namespace deeplab::tools {
namespace {

struct PredictArgs {
  std::string config, weights, model, out = "predictions";
  std::vector<std::string> inputs, sets, flag_sets;  // flag_sets: --fold-bn & co, applied after --set
  bool overlay = false, no_color = false, crf = false, tta = false, no_progress = false;
  int batch_size = 1;
};

// The files' settings: what to write, the classes and colours, the CRF and
// the panoptic post-processing the session carries.
inference::PredictFilesOptions files_options(const PredictArgs& args, const experiment::InferenceSession& session) {
  inference::PredictFilesOptions files;
  files.out_dir = args.out;
  files.color = !args.no_color;
  files.overlay = args.overlay;
  files.crf = session.crf;
  if (args.crf && !files.crf) files.crf = session.config.eval.crf.options;
  files.workers = session.config.data.workers;
  files.progress = !args.no_progress;
  files.batch_size = args.batch_size;
  files.descriptor = session.descriptor;
  files.normalization = session.normalization;
  files.panoptic = session.panoptic;
  return files;
}

experiment::InferenceSession open_predict_session(const PredictArgs& args) {
  const std::vector<std::string> sets = with_flag_overrides(args.sets, args.flag_sets);
  experiment::InferenceSession session;
  if (args.model.empty()) {
    session = experiment::open_session(experiment::load_config(args.config, sets), args.weights);
    // The palette `deeplab eval --save-pred` writes VOC predictions with.
    auto& descriptor = session.descriptor;
    if (!descriptor.submission_palette.empty()) descriptor.palette = descriptor.submission_palette;
  } else {
    // An exported file carries its classes, palette and normalisation; the
    // eval:/runtime: keys still come from --set (threads, amp, scales ...).
    core::ConfigTree tree;
    for (const auto& s : sets) core::apply_override(tree, s);
    session = experiment::open_exported_session(args.model, experiment::config_from_tree(tree));
  }
  session.set_test_time_augmentation(args.tta);
  return session;
}

void run_predict(const PredictArgs& args) {
  if (args.model.empty() == (args.config.empty() || args.weights.empty())) {
    throw ConfigError("predict: give either -c CONFIG --weights W, or --model model.pt (an export), not both");
  }
  const data::InputFiles inputs = data::collect_input_files(args.inputs);
  const experiment::InferenceSession session = open_predict_session(args);
  const inference::PredictFilesOptions options = files_options(args, session);
  spdlog::info("predict: {} images, {} videos with {} ({} scale(s){}{}), {} thread(s), {}", inputs.images.size(),
               inputs.videos.size(), session.model_name, session.predictor.scales.size(),
               session.predictor.flip ? " + flip" : "", options.crf ? " + CRF" : "", at::get_num_threads(),
               session.device.str());
  const inference::Predictor predictor(session.outputs, session.predictor);
  // A file that fails is named at the end and makes the run exit 1; the
  // others go on, and what they wrote stays.
  std::vector<std::string> failed;
  for (const auto& video : inputs.videos) {
    try {
      const inference::VideoReport v = inference::predict_video(predictor, video, options, session.device);
      std::cout << "wrote " << v.color_path << (v.overlay_path.empty() ? "" : " and " + v.overlay_path) << ": "
                << v.frames << " frames of " << v.width << "x" << v.height << " at " << v.fps << " fps in " << v.seconds
                << " s\n";
    } catch (const IoError& e) {
      spdlog::error("{}", e.what());
      failed.push_back(e.what());
    }
  }
  if (!inputs.images.empty()) {
    const inference::PredictReport report =
        inference::predict_image_files(predictor, inputs.images, options, session.device);
    std::cout << "wrote " << report.written << " of " << inputs.images.size() << " images to " << args.out << " in "
              << report.seconds << " s\n";
    failed.insert(failed.end(), report.unreadable.begin(), report.unreadable.end());
  }
  if (!failed.empty()) {
    std::string list;
    for (const auto& line : failed) list += "\n  " + line;
    throw IoError("could not read " + std::to_string(failed.size()) + " of " +
                  std::to_string(inputs.images.size() + inputs.videos.size()) +
                  " inputs (nothing written for them):" + list);
  }
}

}  // namespace

void add_predict_command(CLI::App& app) {
  auto args = std::make_shared<PredictArgs>();
  auto* cmd = app.add_subcommand("predict",
                                 "segment images, folders and videos: label PNGs, colour masks, overlays, and "
                                 "panoptic ids for a Panoptic-DeepLab model");
  cmd->add_option("-c,--config", args->config, "experiment YAML (model, dataset descriptor: classes and colours)");
  cmd->add_option("--weights", args->weights, "model weights (from deeplab train or deeplab import)");
  cmd->add_option("--model", args->model,
                  "an exported TorchScript file instead of -c/--weights (its meta.json "
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
  cmd->add_option("--batch-size", args->batch_size,
                  "images of one size (or video frames) per forward pass; a size change ends a batch")
      ->capture_default_str()
      ->check(at_least(1));
  add_inference_flags(*cmd, args->flag_sets);
  cmd->callback([args] { run_predict(*args); });
}

}  // namespace deeplab::tools
