#pragma once
// One dataset item as decoded from disk, before tensors: OpenCV matrices keep
// the transforms cheap (no autograd, no dispatcher) and the loader converts
// whole batches at once.

#include <opencv2/core.hpp>

#include <string>

namespace deeplab::data {

/// An image with its dense annotations, all the same height and width.
struct Sample {
  std::string id;          // e.g. "2007_000063"; names the sample in messages
  cv::Mat image;           // CV_8UC3, RGB order
  cv::Mat label;           // CV_8UC1 train ids; ignore label for void
  cv::Mat instances;       // CV_32SC1 raw instance ids (Cityscapes), or empty
};

}  // namespace deeplab::data
