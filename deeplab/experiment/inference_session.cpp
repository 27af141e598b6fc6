#include "deeplab/experiment/inference_session.h"

#include <spdlog/spdlog.h>

#include "deeplab/core/error.h"
#include "deeplab/core/logging.h"
#include "deeplab/core/runtime.h"
#include "deeplab/data/dataset_factory.h"
#include "deeplab/export/exported_model.h"
#include "deeplab/export/panoptic_export.h"
#include "deeplab/models/factory.h"
#include "deeplab/models/inference.h"
#include "deeplab/weights/model_io.h"

namespace deeplab::experiment {
namespace {

void prepare_model(models::DeepLabImpl& model, const models::InferenceOptions& options) {
  const models::FoldReport report = models::prepare_for_inference(model, options);
  spdlog::info("inference: {}{}", options.describe(),
               options.fold_bn ? " (" + std::to_string(report.folded) + " BN layers folded)" : "");
  // Not an error: an unfolded norm still computes the right thing, only slower.
  for (const auto& name : report.unfolded) spdlog::warn("inference: BN layer {} has no conv to fold into; kept", name);
}

// An export's palette as the descriptor holds it; IoError when meta.json
// predates palettes.
void take_classes_and_palette(const exporting::ExportMetadata& meta, const std::string& path,
                              data::DatasetDescriptor& descriptor) {
  if (meta.palette.size() != meta.class_names.size()) {
    throw IoError(path + ": meta.json has " + std::to_string(meta.palette.size()) + " palette colours for " +
                  std::to_string(meta.class_names.size()) +
                  " classes (exported before palettes were; export it again)");
  }
  descriptor.classes = meta.class_names;
  for (const auto& c : meta.palette) {
    descriptor.palette.push_back(
        {static_cast<uint8_t>(c.at(0)), static_cast<uint8_t>(c.at(1)), static_cast<uint8_t>(c.at(2))});
  }
}

}  // namespace

void InferenceSession::set_test_time_augmentation(bool enabled) {
  if (!enabled) {
    predictor.scales = {1.0};
    predictor.flip = false;
  } else if (predictor.scales.size() == 1 && !predictor.flip) {
    predictor.scales = {0.5, 0.75, 1.0, 1.25, 1.5, 1.75};
    predictor.flip = true;
  }
}

eval::EvalOptions make_eval_options(const Config& config, models::DeepLabImpl& model) {
  auto options = eval::EvalOptions::from_config(config.eval, config.data, config.model.align_corners,
                                                eval::model_output_stride(model));
  if (models::is_panoptic(config.model)) {
    options.panoptic = postprocess::panoptic_eval_options(config.data, data::load_config_descriptor(config.data),
                                                          models::is_mask_transformer(config.model));
  }
  return options;
}

InferenceSession open_session(Config config, const std::string& weights, const SessionOptions& options) {
  // Same weights, another output stride: the dilations and the ASPP rates follow it.
  if (config.eval.output_stride != 0) config.model = models::at_output_stride(config.model, config.eval.output_stride);
  core::set_config_log_level(config.runtime.log_level);
  InferenceSession session;
  session.device = core::apply_runtime(config.runtime);
  session.model = std::make_shared<models::DeepLab>(weights.empty() ? models::build_model(config.model)
                                                                    : weights::load_model(config.model, weights));
  models::DeepLab& model = *session.model;
  model->to(session.device);
  if (options.prepare) prepare_model(*model, config.eval.inference);
  session.model_name = weights::describe_arch(config.model);
  const models::InferenceOptions inference = config.eval.inference;
  const auto shared_model = session.model;
  session.outputs = [shared_model, inference](const at::Tensor& x) {
    return models::infer_outputs(**shared_model, x, inference);
  };
  session.normalization = data::Normalization::from(config.data.mean, config.data.std);
  if (config.eval.crf.enabled) session.crf = config.eval.crf.options;
  if (options.descriptor) {
    session.eval_options = make_eval_options(config, *model);
    session.predictor = session.eval_options.predictor;
    session.panoptic = session.eval_options.panoptic;
    session.descriptor = data::load_config_descriptor(config.data);
  } else {
    session.predictor = inference::PredictorOptions::from_config(config.eval, eval::model_output_stride(*model),
                                                                 config.model.align_corners);
  }
  session.config = std::move(config);
  return session;
}

InferenceSession open_exported_session(const std::string& path, Config config) {
  core::set_config_log_level(config.runtime.log_level);
  InferenceSession session;
  session.device = core::apply_runtime(config.runtime);
  session.exported = std::make_shared<exporting::ExportedModel>(path, session.device);
  const exporting::ExportedModel& exported = *session.exported;
  const exporting::ExportMetadata& meta = exported.meta();
  take_classes_and_palette(meta, path, session.descriptor);
  config.eval.pad_to_stride = exported.pad_to_stride();
  session.predictor =
      inference::PredictorOptions::from_config(config.eval, exported.output_stride(), exported.align_corners());
  session.normalization = data::Normalization::from(meta.mean, meta.std);
  if (config.eval.crf.enabled) session.crf = config.eval.crf.options;
  if (exported.is_panoptic()) {
    postprocess::PanopticEvalOptions panoptic;
    panoptic.postprocess = exporting::panoptic_options_from_metadata(meta);
    session.descriptor.things = panoptic.postprocess.thing_ids;
    exporting::apply_panoptic_category_ids(meta, session.descriptor);
    panoptic.categories = postprocess::panoptic_categories(session.descriptor);
    session.panoptic = panoptic;
  }
  const models::InferenceOptions inference = config.eval.inference;
  const auto model = session.exported;
  session.outputs = [model, inference](const at::Tensor& x) {
    return models::infer_outputs([&model](const at::Tensor& input) { return model->outputs(input); }, x, inference);
  };
  session.model_name = meta.arch + " (" + path + ")";
  session.config = std::move(config);
  return session;
}

}  // namespace deeplab::experiment
