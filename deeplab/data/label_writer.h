#pragma once
// Writing label images in the official formats (on top of png_io).

#include <opencv2/core.hpp>

#include <string>
#include <vector>

#include "deeplab/data/descriptor.h"

namespace deeplab::data {

/// CV_8UC1 indices -> palette ("P" mode) PNG with `palette` (up to 256 colours).
void write_palette_label(const cv::Mat& indices, const std::vector<Rgb>& palette, const std::string& path);
/// CV_8UC1 -> 8-bit grayscale PNG (Cityscapes labelIds).
void write_gray8_label(const cv::Mat& values, const std::string& path);
/// CV_16UC1 or CV_32SC1 (values < 65536) -> 16-bit grayscale PNG (Cityscapes instanceIds).
void write_gray16_label(const cv::Mat& values, const std::string& path);

/// Colourises train ids with the descriptor palette (ignore -> white), RGB CV_8UC3.
cv::Mat colorize_label(const cv::Mat& label, const DatasetDescriptor& descriptor);

}  // namespace deeplab::data
