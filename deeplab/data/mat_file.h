#pragma once
// MATLAB .mat label files through matio: SBD's `GTcls.Segmentation` and
// PASCAL-Context's `LabelMap` are 2-D numeric arrays, stored column-major.

#include <opencv2/core.hpp>

#include <string>

namespace deeplab::data {

/// Reads the 2-D numeric variable `variable` (or, when `field` is given, the
/// field of that struct variable) as CV_32SC1 in row-major image order.
/// IoError naming the file: missing, not a MAT file, no such variable or
/// field, not 2-D, or a MATLAB class that is not numeric.
cv::Mat read_mat_matrix(const std::string& path, const std::string& variable, const std::string& field = "");

/// Writes `matrix` (CV_16UC1) as the uint16 variable `variable` of a new
/// MAT 5 file (what scipy.io.savemat writes), atomically; IoError naming the file.
void write_mat_matrix(const std::string& path, const std::string& variable, const cv::Mat& matrix);

}  // namespace deeplab::data
