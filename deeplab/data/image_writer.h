#pragma once
// Writing pictures (colourised predictions, overlays, visualisations, plots):
// encoded in memory by the file's extension, then written atomically, so a
// full disk or a kill never leaves a cut-short image that looks like output.

#include <opencv2/core.hpp>

#include <string>
#include <vector>

namespace deeplab::data {

/// Encodes the BGR image `bgr` as `path`'s extension says (.png, .jpg ...,
/// with OpenCV's `params`) and writes it atomically; IoError naming `path`.
void write_bgr_image(const cv::Mat& bgr, const std::string& path, const std::vector<int>& params = {});

/// write_bgr_image for an RGB image.
void write_rgb_image(const cv::Mat& rgb, const std::string& path, const std::vector<int>& params = {});

}  // namespace deeplab::data
