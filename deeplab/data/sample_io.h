#pragma once
// Reading and checking the pieces of a sample: images through OpenCV, label
// PNGs through png_io (palette indices, never colours), and the consistency
// checks every dataset applies with messages naming the file at fault.

#include <opencv2/core.hpp>

#include <string>
#include <vector>

namespace deeplab::data {

/// Decodes a JPEG/PNG image to RGB CV_8UC3; IoError naming a missing,
/// corrupt or cut-short file (image_cut_short: decoders fill a cut-short
/// image with grey and call it a success).
cv::Mat read_rgb_image(const std::string& path);

/// Why the encoded image `bytes` ends early, or "" when it is whole: a JPEG
/// without its end-of-image marker (FF D9), a PNG without its IEND chunk.
/// Other formats are left to their decoder.
std::string image_cut_short(const std::string& bytes);

/// Reads a label PNG as raw values: palette indices or gray levels, CV_8UC1
/// (CV_16UC1 for 16-bit files); IoError naming a missing or unreadable file.
cv::Mat read_label_png(const std::string& path);

/// Applies a 256-entry raw->train LUT to an 8-bit label in place.
void map_labels(cv::Mat& label, const std::vector<uint8_t>& lut);

/// DataError naming `path` and the first value outside [0, num_classes) and != ignore.
void check_label_values(const cv::Mat& label, int num_classes, int ignore, const std::string& path);

/// DataError naming both files and sizes when image and label differ in size.
void check_same_size(const cv::Mat& image, const std::string& image_path, const cv::Mat& label,
                     const std::string& label_path);

/// Reads a split list (one id per line, blank lines ignored); IoError naming a missing file.
std::vector<std::string> read_id_list(const std::string& path);

/// IoError naming `path` unless it is an existing directory.
void require_directory(const std::string& path, const std::string& what);

}  // namespace deeplab::data
