#pragma once
// Pictures of a run: training curves (loss, lr, mIoU vs iteration) and a
// grid of validation samples (image | ground truth | prediction, colourised).

#include <ATen/core/Tensor.h>

#include <array>
#include <string>
#include <vector>

#include "deeplab/data/descriptor.h"
#include "deeplab/train/metrics_log.h"

namespace deeplab::train {

/// Writes curves.png: one panel each for loss, learning rate and mIoU.
void write_curves(const MetricsLog& log, const std::string& path);

/// One row of the samples grid: a normalised CHW image, labels HW (int64).
struct VisRow {
  at::Tensor image, ground_truth, prediction;
};

/// Writes rows of image | ground truth | prediction; `mean`/`std` undo the
/// normalisation; labels are coloured with the descriptor's palette.
void write_samples_grid(const std::vector<VisRow>& rows, const data::DatasetDescriptor& descriptor,
                        const std::vector<double>& mean, const std::vector<double>& std, const std::string& path);

}  // namespace deeplab::train
