#pragma once
// Runs a model over a dataset (this rank's shard of it) under test-time
// augmentation and fills a confusion matrix: the library behind `deeplab
// eval` and the trainer's periodic evaluation.  Scores come from
// semantic_metrics (the one mIoU implementation).

#include <c10/core/Device.h>

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "deeplab/data/data_config.h"
#include "deeplab/data/dataset.h"
#include "deeplab/data/normalization.h"
#include "deeplab/eval/eval_config.h"
#include "deeplab/eval/eval_result.h"
#include "deeplab/inference/prediction_writer.h"
#include "deeplab/inference/predictor.h"
#include "deeplab/postprocess/dense_crf.h"
#include "deeplab/postprocess/panoptic_segments.h"

namespace deeplab::models {
class DeepLabImpl;
}

namespace deeplab::eval {

/// Everything evaluate() needs besides the model and the dataset.
struct EvalOptions {
  inference::PredictorOptions predictor;
  int rank = 0, world_size = 1;  // this process evaluates samples rank, rank + world_size, ...
  int workers = 2;               // loader threads decoding ahead
  int prefetch = 2;
  data::Normalization normalization;
  inference::PredictionWriterOptions outputs;  // --save-pred / --save-vis (off when the directories are empty)
  std::vector<std::string> class_names;        // for the table and JSON
  /// Set for a panoptic model: its outputs are post-processed and scored
  /// with PQ (the dataset must give instance maps), besides mIoU.
  std::optional<postprocess::PanopticEvalOptions> panoptic;
  /// Train id -> Cityscapes label id (256 entries) for a Cityscapes dataset: the
  /// run also scores cityscapesScripts' iIoU and categories; empty otherwise.
  std::vector<int> cityscapes_label_ids;
  /// eval.metrics: the metrics that run only when asked for (eval/metric_table.h).
  std::vector<std::string> metrics;
  /// Set: semantic predictions are refined by the dense CRF (eval.crf), the
  /// images of a batch in parallel (evaluate() joins consecutive same-size
  /// images into batches of up to the thread count for it).
  std::optional<postprocess::DenseCrfOptions> crf;
  /// Channels-last input and autocast of the forward passes; fold_bn is the
  /// caller's (models::prepare_for_inference, before evaluate).
  models::InferenceOptions inference;
  bool progress = true;
  int log_every = 0;  // see core::ProgressBar

  /// From the eval: and data: sections (and the data descriptor); `align_corners`
  /// is model.align_corners, `output_stride` the model's (see model_output_stride).
  static EvalOptions from_config(const EvalConfig& eval, const data::DataConfig& data, bool align_corners,
                                 int output_stride);
};

/// The stride of the model's main feature (what whole-image inference pads to).
int model_output_stride(models::DeepLabImpl& model);

/// Evaluates `model` (switched to eval mode and back) on this rank's shard of
/// `dataset`, on the device of the model's parameters.  ConfigError when the
/// model's and the dataset's class counts differ.
EvalResult evaluate(models::DeepLabImpl& model, const data::Dataset& dataset, const EvalOptions& options);

/// The same with any predictor; images are moved to `device`.
EvalResult evaluate(const inference::Predictor& predictor, const data::Dataset& dataset, const EvalOptions& options,
                    c10::Device device = c10::Device(c10::kCPU));

}  // namespace deeplab::eval
