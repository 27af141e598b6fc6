#pragma once
// The metadata an export carries, from the config its model was built from:
// architecture, class names and palette (the dataset descriptor), input
// normalization and, for panoptic models, the post-processing settings.

#include <cstdint>

#include "deeplab/data/data_config.h"
#include "deeplab/export/export_metadata.h"
#include "deeplab/models/model_config.h"

namespace deeplab::exporting {

/// Export metadata of a config: arch, class names (dataset descriptor), mean/std.
ExportMetadata export_metadata(const models::ModelConfig& model, const data::DataConfig& data, int64_t height,
                               int64_t width);

}  // namespace deeplab::exporting
