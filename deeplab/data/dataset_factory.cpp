#include "deeplab/data/dataset_factory.h"

#include "deeplab/core/error.h"
#include "deeplab/data/cityscapes_dataset.h"
#include "deeplab/data/folder_dataset.h"
#include "deeplab/data/voc_dataset.h"

namespace deeplab::data {

DatasetDescriptor load_config_descriptor(const DataConfig& config) {
  DatasetDescriptor d = load_descriptor(resolve_descriptor_path(config.descriptor, config.dataset));
  if (d.ignore_label != config.ignore_label) {
    throw ConfigError("data.ignore_label is " + std::to_string(config.ignore_label) + " but descriptor " + d.source +
                      " says " + std::to_string(d.ignore_label));
  }
  return d;
}

std::shared_ptr<const Dataset> make_dataset(const DataConfig& config, const std::string& split) {
  DatasetDescriptor descriptor = load_config_descriptor(config);
  const std::string& kind = config.dataset;
  if (kind == "voc" || kind == "voc_aug") {
    VocOptions options;
    options.root = config.root;
    options.split = split;
    options.augmented = kind == "voc_aug";
    options.sbd_root = config.sbd_root;
    return std::make_shared<VocDataset>(options, std::move(descriptor));
  }
  if (kind == "cityscapes" || kind == "cityscapes_panoptic") {
    return std::make_shared<CityscapesDataset>(config.root, split, std::move(descriptor), kind == "cityscapes_panoptic");
  }
  if (kind == "folder") return std::make_shared<FolderDataset>(config.root, split, std::move(descriptor));
  throw ConfigError("data.dataset '" + kind + "' has no semantic-segmentation loader in deeplab::data");
}

}  // namespace deeplab::data
