#include "deeplab/eval/evaluator.h"

#include <torch/torch.h>

#include <deque>
#include <memory>

#include "deeplab/core/error.h"
#include "deeplab/core/progress.h"
#include "deeplab/data/dataset_factory.h"
#include "deeplab/data/loader.h"
#include "deeplab/eval/metric_table.h"
#include "deeplab/inference/crf_pool.h"
#include "deeplab/inference/label_maps.h"
#include "deeplab/inference/panoptic_writer.h"
#include "deeplab/inference/same_size_batcher.h"
#include "deeplab/models/deeplab.h"
#include "deeplab/models/inference.h"
#include "deeplab/models/summary.h"

namespace deeplab::eval {
namespace {

data::Loader make_loader(const data::Dataset& dataset, const EvalOptions& options) {
  // The loader shares ownership of its dataset; here the caller owns it and outlives the loader.
  std::shared_ptr<const data::Dataset> borrowed(&dataset, [](const data::Dataset*) {});
  data::TransformOptions transform;
  transform.train = false;
  transform.ignore_label = dataset.ignore_label();
  transform.eval_pad_multiple = 0;  // the predictor pads in normalised space and crops back
  data::LoaderOptions loader;
  loader.batch_size = 1;  // images differ in size (VOC)
  loader.workers = options.workers;
  loader.prefetch = std::max(1, options.prefetch);
  loader.drop_last = false;
  loader.train = false;  // in order, unpadded shards: every image counts exactly once
  loader.rank = options.rank;
  loader.world_size = options.world_size;
  loader.normalization = options.normalization;
  return data::Loader(std::move(borrowed), data::Transform(transform), loader);
}

void check_shard(const EvalOptions& options) {
  if (options.world_size < 1 || options.rank < 0 || options.rank >= options.world_size) {
    throw ConfigError("--rank " + std::to_string(options.rank) + " --world-size " + std::to_string(options.world_size) +
                      ": expected world size >= 1 and 0 <= rank < world size");
  }
}

// Gives one batch's panoptic predictions to the metrics (their semantic
// argmax to the semantic ones, their segments to panoptic quality) and writes
// its outputs; returns the images seen.
int64_t score_panoptic_batch(const inference::Predictor& predictor, const data::Batch& batch, c10::Device device,
                             inference::PanopticWriter& writer, const EvalOptions& options, EvalResult& result,
                             int ignore_label) {
  if (!batch.instances.defined()) {
    throw DataError(
        "panoptic evaluation needs instance maps, which this dataset does not give (use data.dataset: "
        "cityscapes_panoptic or coco_panoptic)");
  }
  const postprocess::PanopticEvalOptions& panoptic = *options.panoptic;
  const auto predictions =
      inference::predict_panoptic(predictor, batch, device, panoptic.postprocess, options.crf, options.normalization);
  const at::Tensor labels = batch.labels.to(torch::kLong).contiguous();
  for (size_t i = 0; i < predictions.size(); ++i) {
    const auto& p = predictions[i];
    const auto index = static_cast<int64_t>(i);
    const at::Tensor g = labels[index];
    const std::string& id = batch.ids[i];
    const postprocess::PanopticSegmentation gt = postprocess::ground_truth_segmentation(
        g, batch.instances[index], panoptic.postprocess.thing_ids, panoptic.ignore_label);
    const postprocess::PanopticSegmentation pred =
        postprocess::predicted_segmentation(p.panoptic, panoptic.postprocess.label_divisor);
    result.add({id, g, p.semantic.contiguous(), batch.instances[index], ignore_label, &gt, &pred});
    if (writer.active()) {
      writer.write(id, data::to_rgb8(batch.images[index], options.normalization),
                   inference::label_map_to_mat(g, "label", id), gt, pred);
    }
  }
  return static_cast<int64_t>(predictions.size());
}

// Gives one batch's label maps `pred` to the metrics (and writes its
// outputs); returns the images seen.
int64_t score_labels(const data::Batch& batch, const at::Tensor& pred, const inference::PredictionWriter& writer,
                     const EvalOptions& options, EvalResult& result, int ignore_label) {
  const at::Tensor labels = batch.labels.to(torch::kLong).contiguous();
  for (int64_t i = 0; i < pred.size(0); ++i) {
    const at::Tensor p = pred[i], g = labels[i];
    const std::string& id = batch.ids[static_cast<size_t>(i)];
    result.add({id, g, p, batch.instances.defined() ? batch.instances[i] : at::Tensor(), ignore_label});
    if (writer.active()) {
      writer.write(id, data::to_rgb8(batch.images[i], options.normalization),
                   inference::label_map_to_mat(g, "label", id), inference::label_map_to_mat(p, "prediction", id));
    }
  }
  return pred.size(0);
}

MetricContext metric_context(const EvalOptions& options, int num_classes) {
  MetricContext context;
  context.num_classes = num_classes;
  context.class_names = options.class_names;
  if (options.panoptic) context.panoptic_categories = options.panoptic->categories;
  context.cityscapes_label_ids = options.cityscapes_label_ids;
  context.requested = options.metrics;
  return context;
}

inference::PanopticWriterOptions panoptic_writer_options(const EvalOptions& options) {
  inference::PanopticWriterOptions o;
  if (!options.panoptic) return o;  // inactive
  o.pred_dir = options.outputs.pred_dir;
  o.vis_dir = options.outputs.vis_dir;
  o.descriptor = options.outputs.descriptor;
  o.categories = options.panoptic->categories;
  o.vis_limit = options.outputs.vis_limit;
  o.rank = options.rank;
  o.world_size = options.world_size;
  return o;
}

}  // namespace

EvalOptions EvalOptions::from_config(const EvalConfig& eval, const data::DataConfig& data, bool align_corners,
                                     int output_stride) {
  EvalOptions o;
  o.predictor = inference::PredictorOptions::from_config(eval, output_stride, align_corners);
  o.workers = data.workers;
  o.prefetch = data.prefetch;
  o.normalization = data::Normalization::from(data.mean, data.std);
  const data::DatasetDescriptor descriptor = data::load_config_descriptor(data);
  o.class_names = descriptor.classes;
  o.outputs.format = inference::pred_format_of(descriptor);
  o.outputs.palette = descriptor.submission_palette;
  o.outputs.descriptor = descriptor;
  o.log_every = eval.log_every;
  o.metrics = eval.metrics;
  if (eval.crf.enabled) o.crf = eval.crf.options;
  o.inference = eval.inference;
  if ((data.dataset == "cityscapes" || data.dataset == "cityscapes_panoptic") && descriptor.has_label_map &&
      descriptor.train_to_raw.size() == 256) {
    o.cityscapes_label_ids.assign(descriptor.train_to_raw.begin(), descriptor.train_to_raw.end());
  }
  return o;
}

int model_output_stride(models::DeepLabImpl& model) {
  auto& backbone = model.backbone();
  return static_cast<int>(backbone.spec(backbone.out_name()).stride);
}

EvalResult evaluate(const inference::Predictor& predictor, const data::Dataset& dataset, const EvalOptions& options,
                    c10::Device device) {
  check_shard(options);
  torch::NoGradGuard no_grad;
  data::Loader loader = make_loader(dataset, options);
  loader.start_epoch(0);
  const inference::PredictionWriter writer(options.panoptic ? inference::PredictionWriterOptions{} : options.outputs);
  inference::PanopticWriter panoptic_writer(panoptic_writer_options(options));
  EvalResult result;
  result.metrics = make_metrics(metric_context(options, dataset.num_classes()));
  // This rank's shard: samples rank, rank + world_size, ...
  const auto shard =
      static_cast<int64_t>((dataset.size() + options.world_size - 1 - options.rank) / options.world_size);
  core::ProgressBar progress("eval", shard, "img", options.log_every, options.progress);
  progress.update(0);
  auto count = [&](const data::Batch& batch, int64_t images) {
    result.images += images;
    result.forward_passes += predictor.passes(batch.images.size(2), batch.images.size(3)) * batch.images.size(0);
    progress.update(result.images);
  };
  if (options.crf && !options.panoptic) {
    // The CRFs run on a pool of all cores beside the next images' forward,
    // at most one batch per worker in flight; scored in order.
    inference::CrfPool pool(*options.crf, options.normalization, at::get_num_threads());
    std::deque<std::pair<data::Batch, inference::PendingCrf>> in_flight;
    auto finish_oldest = [&] {
      auto& [batch, crf] = in_flight.front();
      count(batch, score_labels(batch, crf.get().argmax(1), writer, options, result, dataset.ignore_label()));
      in_flight.pop_front();
    };
    while (auto batch = loader.next()) {
      const at::Tensor probs =
          inference::predict_probabilities(predictor, *batch, device, std::nullopt, options.normalization);
      inference::PendingCrf crf = pool.refine(*batch, probs);
      in_flight.emplace_back(std::move(*batch), std::move(crf));
      while (static_cast<int>(in_flight.size()) > pool.threads()) finish_oldest();
    }
    while (!in_flight.empty()) finish_oldest();
  } else {
    auto score = [&](const data::Batch& batch) {
      if (options.panoptic) {
        count(batch,
              score_panoptic_batch(predictor, batch, device, panoptic_writer, options, result, dataset.ignore_label()));
      } else {
        const at::Tensor pred =
            inference::predict_label_maps(predictor, batch, device, std::nullopt, options.normalization);
        count(batch, score_labels(batch, pred, writer, options, result, dataset.ignore_label()));
      }
    };
    // A panoptic model's CRF runs in its batch, one thread per image: images
    // of one size are scored together so that their CRFs run in parallel.
    inference::SameSizeBatcher batcher(options.crf ? at::get_num_threads() : 1);
    while (auto batch = loader.next()) {
      if (auto ready = batcher.add(std::move(*batch))) score(*ready);
    }
    if (auto rest = batcher.flush()) score(*rest);
  }
  progress.finish();
  panoptic_writer.finish();
  result.seconds = progress.elapsed();
  return result;
}

EvalResult evaluate(models::DeepLabImpl& model, const data::Dataset& dataset, const EvalOptions& options) {
  if (model.options().num_classes() != dataset.num_classes()) {
    throw ConfigError("model.num_classes is " + std::to_string(model.options().num_classes()) +
                      " but the dataset has " + std::to_string(dataset.num_classes()) + " classes");
  }
  const c10::Device device = models::module_device(model);
  const bool was_training = model.is_training();
  model.eval();
  const inference::Predictor predictor(inference::OutputsFn([&model, &options](const at::Tensor& x) {
                                         return models::infer_outputs(model, x, options.inference);
                                       }),
                                       options.predictor);
  try {
    EvalResult result = evaluate(predictor, dataset, options, device);
    model.train(was_training);
    return result;
  } catch (...) {
    model.train(was_training);
    throw;
  }
}

}  // namespace deeplab::eval
