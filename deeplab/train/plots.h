#pragma once
// Pictures of a run: training curves (loss, lr, mIoU vs iteration) and a
// grid of validation samples (the evaluator's image | ground truth |
// prediction visualisations, one per row).

#include <string>
#include <vector>

#include "deeplab/train/metrics_log.h"

namespace deeplab::train {

/// Writes curves.png: one panel each for loss, learning rate and mIoU.
void write_curves(const MetricsLog& log, const std::string& path);

/// Stacks the given pictures (PredictionWriter's visualisations) as rows,
/// padded to the widest; IoError naming a picture that cannot be read.
void write_samples_grid(const std::vector<std::string>& row_images, const std::string& path);

}  // namespace deeplab::train
