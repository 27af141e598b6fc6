#pragma once
// `data:` section of an experiment config: dataset, splits, augmentation, loader.

#include <cstdint>
#include <string>
#include <vector>

#include "deeplab/core/config_check.h"
#include "deeplab/data/normalization.h"

namespace deeplab::data {

/// The data.dataset values make_dataset can build, read from its table
/// (data/dataset_factory.cpp), so validation and construction cannot drift.
std::vector<std::string> dataset_names();

/// `data.photometric`: random brightness/contrast/saturation/hue, each applied
/// with probability 0.5 (the mmseg/DeepLab recipe); off by default.
struct PhotometricConfig {
  bool enabled = false;
  double brightness = 32;                       // max |delta| on the 0..255 scale
  std::vector<double> contrast = {0.5, 1.5};    // multiplier range
  std::vector<double> saturation = {0.5, 1.5};  // multiplier range
  double hue = 18;                              // max |shift| in degrees

  template <class V>
  void fields(V& v) {
    using namespace core::check;
    v("enabled", enabled);
    v("brightness", brightness, in_range(0, 255));
    v("contrast", contrast, with_length(non_negative(), 2));
    v("saturation", saturation, with_length(non_negative(), 2));
    v("hue", hue, in_range(0, 180));
  }
};

/// Odd sizes 1..99: a max-pool window needs a centre pixel.
inline core::Check odd_window() {
  core::Check c;
  for (int k = 1; k < 100; k += 2) c.choices.push_back(std::to_string(k));
  return c;
}

/// `data.panoptic.mask`: the mask-wise post-processing of mask transformers
/// (kmax_deeplab; postprocess/mask_panoptic.h), evaluator.proto's names.
/// Defaults: deeplab2's Cityscapes kMaX config; COCO: 0.7 / 0.5, 0.8, 400 /
/// 6400, mask weight 1.  Areas are in input pixels.
struct MaskPanopticDataConfig {
  /// maskwise (kMaX-DeepLab) or pixelwise (MaX-DeepLab): deeplab2's
  /// transformer_post_processing.
  std::string mode = "maskwise";
  double class_threshold = 0.7;  // pixelwise: a slot takes part from this class confidence on
  double pixel_confidence_threshold = 0.4;
  double class_threshold_thing = 0.5;
  double class_threshold_stuff = 0.3;
  double overlap_threshold = 0.9;
  int64_t thing_area_limit = 256;
  int64_t stuff_area_limit = 2048;
  double reorder_class_weight = 1.0;
  double reorder_mask_weight = 0.0;

  template <class V>
  void fields(V& v) {
    using namespace core::check;
    v("mode", mode, one_of({"maskwise", "pixelwise"}));
    v("class_threshold", class_threshold, in_range(0, 1));
    v("pixel_confidence_threshold", pixel_confidence_threshold, in_range(0, 1));
    v("class_threshold_thing", class_threshold_thing, in_range(0, 1));
    v("class_threshold_stuff", class_threshold_stuff, in_range(0, 1));
    v("overlap_threshold", overlap_threshold, in_range(0, 1));
    v("thing_area_limit", thing_area_limit, non_negative());
    v("stuff_area_limit", stuff_area_limit, non_negative());
    v("reorder_class_weight", reorder_class_weight, non_negative());
    v("reorder_mask_weight", reorder_mask_weight, non_negative());
  }
};

/// `data.panoptic`: Panoptic-DeepLab targets and post-processing; every constant in
/// pixels lives here. Defaults: deeplab2's Cityscapes configs.
struct PanopticDataConfig {
  double sigma = 8;                    // center heatmap Gaussian sigma, px (deeplab2: 8)
  int64_t small_instance_area = 4096;  // instances below this area (px) get small_instance_weight (deeplab2: 4096)
  double small_instance_weight = 3;    // semantic loss weight on small instances' pixels (deeplab2: 3)
  bool crowd_as_ignore = false;        // crowd pixels get the ignore label in the semantic target
  int64_t stuff_area = 2048;           // a stuff class with fewer px in an image becomes void (COCO: 4096)
  int nms_kernel = 13;                 // center NMS max-pool window, odd (deeplab2: 13, detectron2: 7)
  int top_k = 400;                     // centers kept per image, <= 0 keeps all (deeplab2: 400, detectron2: 200)
  double center_threshold = 0.1;       // a center's heatmap value must exceed this (both: 0.1)
  int label_divisor = 1000;            // panoptic id = class * label_divisor + instance
  MaskPanopticDataConfig mask;         // kmax_deeplab's post-processing instead of centers

  template <class V>
  void fields(V& v) {
    using namespace core::check;
    v("sigma", sigma, positive());
    v("small_instance_area", small_instance_area, non_negative());
    v("small_instance_weight", small_instance_weight, positive());
    v("crowd_as_ignore", crowd_as_ignore);
    v("stuff_area", stuff_area, non_negative());
    v("nms_kernel", nms_kernel, odd_window());
    v("top_k", top_k);
    v("center_threshold", center_threshold, in_range(0, 1));
    v("label_divisor", label_divisor, at_least(1));
    v.section("mask", mask);
  }
};

struct DataConfig {
  std::string dataset = "voc";
  std::string root = "datasets/data/VOCdevkit/VOC2012";
  /// Descriptor YAML (classes, palette, things); "" = datasets/<dataset>.yaml.
  std::string descriptor;
  /// voc_aug only: SBD's `dataset/` dir; its cls/*.mat are read when no PNG exists.
  std::string sbd_root;
  std::string train_split = "train";
  std::string val_split = "val";
  int ignore_label = 255;
  std::vector<int> crop_size = {513, 513};  // height, width
  std::vector<double> scale_range = {0.5, 2.0};
  double scale_step = 0.25;  // 0: continuous scales
  bool flip = true;
  PhotometricConfig photometric;
  PanopticDataConfig panoptic;
  std::vector<double> mean = {kImageNetMean.begin(), kImageNetMean.end()};
  std::vector<double> std = {kImageNetStd.begin(), kImageNetStd.end()};
  /// Evaluation: pad whole images (label with ignore) to a multiple of this; 0 = off.
  int eval_pad_multiple = 0;
  int batch_size = 8;
  int workers = 2;
  int prefetch = 4;
  bool drop_last = true;
  /// Log and skip unreadable/inconsistent samples instead of stopping.
  bool skip_bad_samples = false;
  /// Training on CUDA: collate batches in page-locked memory so that their
  /// copies to the GPU run asynchronously (ignored on the CPU).
  bool pin_memory = true;

  template <class V>
  void fields(V& v) {
    using namespace core::check;
    v("dataset", dataset, one_of(dataset_names()));
    v("root", root);
    v("descriptor", descriptor);
    v("sbd_root", sbd_root);
    v("train_split", train_split);
    v("val_split", val_split);
    v("ignore_label", ignore_label, in_range(0, 255));
    v("crop_size", crop_size, with_length(at_least(1), 2));
    v("scale_range", scale_range, with_length(positive(), 2));
    v("scale_step", scale_step, non_negative());
    v("flip", flip);
    v.section("photometric", photometric);
    v.section("panoptic", panoptic);
    v("mean", mean, with_length(in_range(0, 1), 3));
    v("std", std, with_length(positive(), 3));
    v("eval_pad_multiple", eval_pad_multiple, non_negative());
    v("batch_size", batch_size, at_least(1));
    v("workers", workers, non_negative());
    v("prefetch", prefetch, at_least(1));
    v("drop_last", drop_last);
    v("skip_bad_samples", skip_bad_samples);
    v("pin_memory", pin_memory);
  }
};

}  // namespace deeplab::data
