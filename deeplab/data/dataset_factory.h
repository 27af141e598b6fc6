#pragma once
// Config -> dataset: the one switch over `data.dataset`.

#include <memory>
#include <string>

#include "deeplab/data/data_config.h"
#include "deeplab/data/dataset.h"
#include "deeplab/data/descriptor.h"

namespace deeplab::data {

/// The descriptor `config` points at (data.descriptor or datasets/<dataset>.yaml).
DatasetDescriptor load_config_descriptor(const DataConfig& config);

/// What a dataset is read for.  Evaluation also reads what only scoring
/// needs (plain Cityscapes' instanceIds, for iIoU), which training would
/// decode, augment and collate for nothing.
enum class DatasetUse { kTraining, kEvaluation };

/// The dataset of `config` for `split` (e.g. config.train_split); errors name the missing path.
std::shared_ptr<const Dataset> make_dataset(const DataConfig& config, const std::string& split, DatasetUse use);

}  // namespace deeplab::data
