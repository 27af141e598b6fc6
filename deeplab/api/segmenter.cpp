#include "deeplab/segmenter.h"

#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include "deeplab/core/config_tree.h"
#include "deeplab/core/error.h"
#include "deeplab/data/label_writer.h"
#include "deeplab/data/loader.h"
#include "deeplab/data/memory_dataset.h"
#include "deeplab/data/transforms.h"
#include "deeplab/experiment/inference_session.h"
#include "deeplab/inference/label_maps.h"
#include "deeplab/inference/predict_files.h"
#include "deeplab/postprocess/panoptic_segments.h"

namespace deeplab {
namespace {

std::vector<std::string> overrides_of(const SegmenterOptions& o) {
  std::vector<std::string> sets = {
      "runtime.device=" + o.device,
      "runtime.threads=" + std::to_string(o.threads),
      std::string("eval.fold_bn=") + (o.fold_bn ? "true" : "false"),
      std::string("eval.channels_last=") + (o.channels_last ? "true" : "false"),
      "eval.amp=" + o.amp,
  };
  if (o.crf) sets.push_back("eval.crf.enabled=true");
  sets.insert(sets.end(), o.overrides.begin(), o.overrides.end());
  return sets;
}

// What cv::imread gives, as the RGB CV_8UC3 the loader reads files into.
cv::Mat to_rgb(const cv::Mat& image) {
  if (image.empty()) throw DataError("Segmenter::segment: the image is empty");
  if (image.depth() != CV_8U) {
    throw DataError("Segmenter::segment: expected an 8-bit image (CV_8UC3 BGR, as cv::imread gives), got depth " +
                    std::to_string(image.depth()));
  }
  cv::Mat rgb;
  switch (image.channels()) {
    case 1: cv::cvtColor(image, rgb, cv::COLOR_GRAY2RGB); break;
    case 3: cv::cvtColor(image, rgb, cv::COLOR_BGR2RGB); break;
    case 4: cv::cvtColor(image, rgb, cv::COLOR_BGRA2RGB); break;
    default:
      throw DataError("Segmenter::segment: expected 1, 3 or 4 channels, got " + std::to_string(image.channels()));
  }
  return rgb;
}

// Images of one size collated and normalised exactly as `deeplab predict`'s
// loader does it (the same code: a loader over the images in memory).
data::Batch collate(const std::vector<cv::Mat>& rgb, const data::Normalization& normalization, int num_classes) {
  std::vector<data::Sample> samples;
  for (size_t i = 0; i < rgb.size(); ++i) {
    samples.push_back({"image " + std::to_string(i), rgb[i], cv::Mat::zeros(rgb[i].size(), CV_8UC1), {}});
  }
  auto dataset = std::make_shared<data::MemoryDataset>(std::move(samples), num_classes);
  data::TransformOptions transform;
  transform.train = false;
  transform.eval_pad_multiple = 0;  // the predictor pads and crops back
  data::LoaderOptions options;
  options.batch_size = static_cast<int>(rgb.size());
  options.workers = 0;
  options.drop_last = false;
  options.train = false;
  options.pin_memory = false;
  options.normalization = normalization;
  data::Loader loader(dataset, data::Transform(transform), options);
  loader.start_epoch(0);
  return *loader.next();
}

cv::Mat to_int_mat(const at::Tensor& map) {
  const at::Tensor values = map.to(torch::kCPU, torch::kInt).contiguous();
  return cv::Mat(static_cast<int>(values.size(0)), static_cast<int>(values.size(1)), CV_32SC1,
                 values.data_ptr<int32_t>())
      .clone();
}

cv::Mat to_probability_mat(const at::Tensor& probabilities) {
  const at::Tensor p = probabilities.to(torch::kCPU, torch::kFloat).contiguous();
  const int sizes[3] = {static_cast<int>(p.size(0)), static_cast<int>(p.size(1)), static_cast<int>(p.size(2))};
  return cv::Mat(3, sizes, CV_32F, p.data_ptr<float>()).clone();
}

}  // namespace

struct Segmenter::Impl {
  experiment::InferenceSession session;
  std::unique_ptr<inference::Predictor> predictor;
  std::vector<std::array<uint8_t, 3>> palette;
  bool probabilities = false;

  Impl(experiment::InferenceSession opened, const SegmenterOptions& options)
      : session(std::move(opened)), probabilities(options.probabilities) {
    session.set_test_time_augmentation(options.tta);
    predictor = std::make_unique<inference::Predictor>(session.outputs, session.predictor);
    for (const auto& c : session.descriptor.palette) palette.push_back({c[0], c[1], c[2]});
  }

  void segment_semantic(const data::Batch& batch, std::vector<Segmentation>& out) const {
    at::Tensor labels;
    at::Tensor probs;
    if (probabilities) {
      probs = inference::predict_probabilities(*predictor, batch, session.device, session.crf, session.normalization);
      labels = probs.argmax(1);
    } else {
      labels = inference::predict_label_maps(*predictor, batch, session.device, session.crf, session.normalization);
    }
    for (int64_t i = 0; i < labels.size(0); ++i) {
      Segmentation s;
      s.labels = to_int_mat(labels[i]);
      if (probabilities) s.probabilities = to_probability_mat(probs[i]);
      out.push_back(std::move(s));
    }
  }

  void segment_panoptic(const data::Batch& batch, std::vector<Segmentation>& out) const {
    const postprocess::PanopticEvalOptions& panoptic = *session.panoptic;
    const auto predictions = inference::predict_panoptic(*predictor, batch, session.device, panoptic.postprocess,
                                                         session.crf, session.normalization);
    at::Tensor probs;
    if (probabilities) {  // one more pass: the panoptic merge does not keep the softmax
      probs = inference::predict_probabilities(*predictor, batch, session.device, session.crf, session.normalization);
    }
    const auto& things = panoptic.postprocess.thing_ids;
    for (size_t i = 0; i < predictions.size(); ++i) {
      const auto& p = predictions[i];
      Segmentation s;
      s.labels = to_int_mat(p.semantic);
      if (probabilities) s.probabilities = to_probability_mat(probs[static_cast<int64_t>(i)]);
      const postprocess::PanopticSegmentation segments =
          postprocess::predicted_segmentation(p.panoptic.cpu(), panoptic.postprocess.label_divisor);
      s.panoptic = cv::Mat(s.labels.size(), CV_32SC1);
      std::copy(segments.ids.begin(), segments.ids.end(), s.panoptic.ptr<int32_t>());
      for (const auto& segment : segments.segments) {
        const bool thing = std::find(things.begin(), things.end(), segment.category_id) != things.end();
        s.segments.push_back({static_cast<int>(segment.id), segment.category_id, thing, segment.area});
      }
      out.push_back(std::move(s));
    }
  }
};

Segmenter::Segmenter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Segmenter::~Segmenter() = default;
Segmenter::Segmenter(Segmenter&&) noexcept = default;
Segmenter& Segmenter::operator=(Segmenter&&) noexcept = default;

Segmenter Segmenter::from_export(const std::string& model_path, const SegmenterOptions& options) {
  core::ConfigTree tree;
  for (const auto& s : overrides_of(options)) core::apply_override(tree, s);
  return Segmenter(std::make_unique<Impl>(
      experiment::open_exported_session(model_path, experiment::config_from_tree(tree)), options));
}

Segmenter Segmenter::from_config(const std::string& config_path, const std::string& weights_path,
                                 const SegmenterOptions& options) {
  experiment::InferenceSession session =
      experiment::open_session(experiment::load_config(config_path, overrides_of(options)), weights_path);
  // `deeplab predict` colours VOC predictions with the submission palette.
  auto& descriptor = session.descriptor;
  if (!descriptor.submission_palette.empty()) descriptor.palette = descriptor.submission_palette;
  return Segmenter(std::make_unique<Impl>(std::move(session), options));
}

Segmentation Segmenter::segment(const cv::Mat& bgr_image) const {
  return segment(std::vector<cv::Mat>{bgr_image}).at(0);
}

std::vector<Segmentation> Segmenter::segment(const std::vector<cv::Mat>& bgr_images) const {
  torch::NoGradGuard no_grad;
  std::vector<Segmentation> out;
  std::vector<cv::Mat> run;  // consecutive images of one size
  auto flush = [&] {
    if (run.empty()) return;
    const data::Batch batch =
        collate(run, impl_->session.normalization, static_cast<int>(impl_->session.descriptor.classes.size()));
    if (impl_->session.panoptic) {
      impl_->segment_panoptic(batch, out);
    } else {
      impl_->segment_semantic(batch, out);
    }
    run.clear();
  };
  for (const cv::Mat& image : bgr_images) {
    cv::Mat rgb = to_rgb(image);
    if (!run.empty() && rgb.size() != run.front().size()) flush();
    run.push_back(std::move(rgb));
  }
  flush();
  return out;
}

const std::vector<std::string>& Segmenter::class_names() const { return impl_->session.descriptor.classes; }
const std::vector<std::array<uint8_t, 3>>& Segmenter::palette() const { return impl_->palette; }
bool Segmenter::is_panoptic() const { return impl_->session.panoptic.has_value(); }
std::string Segmenter::device() const { return impl_->session.device.str(); }

// The same colours and blend `deeplab predict` writes (data::colorize_label,
// eval::blend_overlay), in OpenCV's BGR order.
cv::Mat Segmenter::colorize(const Segmentation& result) const {
  if (result.labels.type() != CV_32SC1) throw DataError("Segmenter::colorize: labels must be CV_32SC1");
  cv::Mat labels;
  result.labels.convertTo(labels, CV_8U);  // class indices; descriptors hold at most 256 colours
  cv::Mat bgr;
  cv::cvtColor(data::colorize_label(labels, impl_->session.descriptor), bgr, cv::COLOR_RGB2BGR);
  return bgr;
}

cv::Mat Segmenter::overlay(const cv::Mat& bgr_image, const Segmentation& result, double alpha) const {
  const cv::Mat colours = colorize(result);
  cv::Mat image = to_rgb(bgr_image);
  cv::cvtColor(image, image, cv::COLOR_RGB2BGR);
  if (image.size() != colours.size()) {
    throw DataError("Segmenter::overlay: the image is " + std::to_string(image.cols) + "x" +
                    std::to_string(image.rows) + ", the result " + std::to_string(colours.cols) + "x" +
                    std::to_string(colours.rows));
  }
  return inference::blend_overlay(image, colours, alpha);
}

}  // namespace deeplab
