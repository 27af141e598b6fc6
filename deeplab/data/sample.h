#pragma once
// One dataset item as decoded from disk, before tensors: OpenCV matrices keep
// the transforms cheap (no autograd, no dispatcher) and the loader converts
// whole batches at once.

#include <opencv2/core.hpp>

#include <string>

namespace deeplab::data {

/// An image with its dense annotations, all the same height and width.
struct Sample {
  std::string id;  // e.g. "2007_000063"; names the sample in messages
  cv::Mat image;   // CV_8UC3, RGB order
  cv::Mat label;   // CV_8UC1 train ids; ignore label for void
  /// CV_32SC1 instance ids, or empty; every dataset uses Cityscapes' instanceIds rule:
  /// a value >= 1000 is an instance (equal values = same instance, whatever the value:
  /// 26000 is a car, numbering starts at 0, so never test id % 1000 == 0); a value < 1000
  /// on a thing-class pixel (per `label`) marks crowd; on stuff/void pixels it does not matter.
  cv::Mat instances;
};

}  // namespace deeplab::data
