#pragma once
// `data:` section of an experiment config: dataset, splits, augmentation, loader.

#include <string>
#include <vector>

#include "deeplab/core/config_check.h"

namespace deeplab::data {

struct DataConfig {
  std::string dataset = "voc";
  std::string root = "datasets/data/VOCdevkit/VOC2012";
  std::string train_split = "train";
  std::string val_split = "val";
  int ignore_label = 255;
  std::vector<int> crop_size = {513, 513};  // height, width
  std::vector<double> scale_range = {0.5, 2.0};
  double scale_step = 0.25;                 // 0: continuous scales
  bool flip = true;
  std::vector<double> mean = {0.485, 0.456, 0.406};
  std::vector<double> std = {0.229, 0.224, 0.225};
  int batch_size = 8;
  int workers = 2;
  int prefetch = 4;

  template <class V>
  void fields(V& v) {
    using namespace core::check;
    v("dataset", dataset, one_of({"voc", "voc_aug", "cityscapes", "cityscapes_panoptic", "coco_panoptic", "folder"}));
    v("root", root);
    v("train_split", train_split);
    v("val_split", val_split);
    v("ignore_label", ignore_label, in_range(0, 255));
    v("crop_size", crop_size, with_length(at_least(1), 2));
    v("scale_range", scale_range, with_length(positive(), 2));
    v("scale_step", scale_step, non_negative());
    v("flip", flip);
    v("mean", mean, with_length(in_range(0, 1), 3));
    v("std", std, with_length(positive(), 3));
    v("batch_size", batch_size, at_least(1));
    v("workers", workers, non_negative());
    v("prefetch", prefetch, at_least(1));
  }
};

}  // namespace deeplab::data
