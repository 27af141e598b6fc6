#pragma once
// deeplab::Segmenter — semantic and panoptic segmentation inside a C++
// application.
//
//   #include <deeplab/segmenter.h>
//   auto segmenter = deeplab::Segmenter::from_export("model.pt");
//   deeplab::Segmentation result = segmenter.segment(cv::imread("photo.jpg"));
//   cv::imwrite("overlay.png", segmenter.overlay(cv::imread("photo.jpg"), result));
//
// A Segmenter runs the same inference as `deeplab predict`: the same
// preparation of the model (BN folding, channels-last, autocast), the same
// test-time augmentation, dense CRF and panoptic post-processing, so its label
// maps equal the tool's.  It is built from an exported TorchScript file
// (`deeplab export`: meta.json gives classes, palette and normalisation) or
// from an experiment config plus weights.
//
// Threads: segment() may be called from one thread at a time.  To segment on
// several threads, give each thread its own Segmenter (each loads its own copy
// of the weights), and set SegmenterOptions::threads so that their intra-op
// threads add up to the cores.  Errors are thrown as std::runtime_error
// subclasses whose message names the file, key or value at fault.
//
// This header, <deeplab/training.h> and <deeplab/version.h> are the stable
// public API; they include nothing of the library's internals.

#include <opencv2/core/mat.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace deeplab {

/// How a Segmenter runs; every field has the `deeplab predict` default.
struct SegmenterOptions {
  std::string device = "auto";  ///< "cpu", "cuda", "cuda:N" or "auto" (CUDA when present)
  int threads = 0;              ///< intra-op threads; 0: all cores
  bool tta = false;             ///< multi-scale + flip: eval.scales/eval.flip, or 0.5..1.75 + flip
  bool crf = false;             ///< refine with the dense CRF (the config's eval.crf settings)
  bool fold_bn = true;          ///< fold BN into the convolutions (config-built models)
  bool channels_last = true;    ///< channels-last weights and inputs
  std::string amp = "none";     ///< "none", "bf16" (CPUs with avx512_bf16/AMX) or "fp16" (CUDA)
  bool probabilities = false;   ///< also return the per-class probabilities
  /// More config overrides, as `deeplab --set` takes them ("eval.scales=[0.75,1.0]").
  std::vector<std::string> overrides;
};

/// One segment of a panoptic result.
struct Segment {
  int id = 0;             ///< its value in Segmentation::panoptic (1, 2, ... in order of first appearance)
  int class_index = 0;    ///< index into class_names()
  bool is_thing = false;  ///< a countable class (one segment per instance)
  int64_t area = 0;       ///< pixels
};

/// What segment() returns for one image; every map has the image's size.
struct Segmentation {
  cv::Mat labels;  ///< CV_32SC1: class index per pixel
  /// CV_32F, three dimensions {classes, height, width}: at<float>(c, y, x);
  /// empty unless SegmenterOptions::probabilities.
  cv::Mat probabilities;
  cv::Mat panoptic;               ///< CV_32SC1: segment id per pixel, 0 = void; empty for semantic models
  std::vector<Segment> segments;  ///< panoptic models only
};

class Segmenter {
 public:
  /// A TorchScript file written by `deeplab export`.
  static Segmenter from_export(const std::string& model_path, const SegmenterOptions& options = {});
  /// An experiment config (YAML, with its _base_ files) and weights from
  /// `deeplab train` (best.pth, final.pth) or `deeplab import`.
  static Segmenter from_config(const std::string& config_path, const std::string& weights_path,
                               const SegmenterOptions& options = {});

  ~Segmenter();
  Segmenter(Segmenter&&) noexcept;
  Segmenter& operator=(Segmenter&&) noexcept;
  Segmenter(const Segmenter&) = delete;
  Segmenter& operator=(const Segmenter&) = delete;

  /// Segments a BGR image as cv::imread returns it (CV_8UC3; CV_8UC1 and
  /// CV_8UC4 are converted).
  Segmentation segment(const cv::Mat& bgr_image) const;
  /// Segments several images; consecutive images of one size run through the
  /// network together.
  std::vector<Segmentation> segment(const std::vector<cv::Mat>& bgr_images) const;

  const std::vector<std::string>& class_names() const;
  /// RGB colour of each class.
  const std::vector<std::array<uint8_t, 3>>& palette() const;
  bool is_panoptic() const;
  /// "cpu" or "cuda:N": where the network runs.
  std::string device() const;

  /// The labels in the palette's colours, BGR (CV_8UC3) for cv::imwrite.
  cv::Mat colorize(const Segmentation& result) const;
  /// The image with the colours blended in: image * (1 - alpha) + colours * alpha.
  cv::Mat overlay(const cv::Mat& bgr_image, const Segmentation& result, double alpha = 0.5) const;

 private:
  struct Impl;
  explicit Segmenter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace deeplab
