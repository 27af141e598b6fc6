#pragma once
// The one place that makes a model ready for inference: from a config plus
// weights, or from an exported TorchScript file, it applies the runtime
// (threads, device), eval.output_stride (dilations and ASPP rates follow),
// loads the weights, folds BN and sets channels-last / autocast
// (eval.fold_bn, eval.channels_last, eval.amp), and gathers what turning
// outputs into pictures needs (classes, palette, normalisation, the dense CRF
// and panoptic post-processing settings).  `deeplab eval`, `predict`, `bench
// model` and deeplab::Segmenter all start here.

#include <c10/core/Device.h>

#include <memory>
#include <optional>
#include <string>

#include "deeplab/data/descriptor.h"
#include "deeplab/data/normalization.h"
#include "deeplab/eval/evaluator.h"
#include "deeplab/experiment/config.h"
#include "deeplab/inference/predictor.h"
#include "deeplab/models/deeplab.h"
#include "deeplab/postprocess/dense_crf_options.h"
#include "deeplab/postprocess/panoptic_segments.h"

namespace deeplab::exporting {
class ExportedModel;
}

namespace deeplab::experiment {

/// How open_session prepares the model.
struct SessionOptions {
  /// Fold BN and set channels-last per eval.inference; off for callers that
  /// prepare the model themselves (bench model times the preparation's effect).
  bool prepare = true;
  /// Read the dataset descriptor (classes, palette); off where only the
  /// network runs (bench model on a config whose dataset is absent).
  bool descriptor = true;
};

/// A model ready for inference and everything needed around it.
struct InferenceSession {
  Config config;  ///< as loaded, with eval.output_stride applied to config.model
  c10::Device device{c10::kCPU};
  std::shared_ptr<models::DeepLab> model;              ///< set when opened from a config
  std::shared_ptr<exporting::ExportedModel> exported;  ///< set when opened from an export
  /// Normalised images [N, 3, H, W] -> named outputs, with eval.channels_last
  /// and eval.amp applied (what a Predictor runs).
  inference::OutputsFn outputs;
  /// Test-time settings (scales, flip, windows, padding to the stride).
  inference::PredictorOptions predictor;
  /// Evaluation settings of a config-opened session (make_eval_options).
  eval::EvalOptions eval_options;
  data::DatasetDescriptor descriptor;  ///< classes, palette, things (panoptic: the dataset's category ids)
  data::Normalization normalization;
  std::optional<postprocess::DenseCrfOptions> crf;           ///< eval.crf when enabled
  std::optional<postprocess::PanopticEvalOptions> panoptic;  ///< set for a Panoptic-DeepLab model
  std::string model_name;                                    ///< for logs: arch, or arch + file

  /// Without --tta one plain pass; with it eval.scales / eval.flip, or the
  /// papers' six scales + flip when the config has none.
  void set_test_time_augmentation(bool enabled);
};

/// Evaluation settings of `config` for `model` (its output stride); PQ
/// besides mIoU for a panoptic model.
eval::EvalOptions make_eval_options(const Config& config, models::DeepLabImpl& model);

/// From a config and its weights ("" builds the initialised model: timings
/// only).  Applies config.runtime (log level, threads, device) first.
InferenceSession open_session(Config config, const std::string& weights, const SessionOptions& options = {});

/// From an exported file (`deeplab export`); its meta.json gives classes,
/// palette, normalisation and the model facts; `config` supplies the
/// runtime: and eval: keys (threads, device, TTA, CRF, amp).  IoError naming
/// the file when its metadata is incomplete.
InferenceSession open_exported_session(const std::string& path, Config config);

}  // namespace deeplab::experiment
