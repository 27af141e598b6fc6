#include "deeplab/data/dataset_factory.h"

#include "deeplab/core/error.h"
#include "deeplab/core/named_table.h"
#include "deeplab/data/cityscapes_dataset.h"
#include "deeplab/data/coco_panoptic_dataset.h"
#include "deeplab/data/folder_dataset.h"
#include "deeplab/data/pascal_context_dataset.h"
#include "deeplab/data/scene_parsing_dataset.h"
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

namespace {

using DatasetBuilder = std::shared_ptr<const Dataset> (*)(const DataConfig&, const std::string&, DatasetDescriptor,
                                                          DatasetUse);

std::shared_ptr<const Dataset> make_voc(const DataConfig& config, const std::string& split, DatasetDescriptor d,
                                        DatasetUse) {
  VocOptions options;
  options.root = config.root;
  options.split = split;
  options.augmented = config.dataset == "voc_aug";
  options.sbd_root = config.sbd_root;
  return std::make_shared<VocDataset>(options, std::move(d));
}

std::shared_ptr<const Dataset> make_cityscapes(const DataConfig& config, const std::string& split, DatasetDescriptor d,
                                               DatasetUse use) {
  // Panoptic targets need the instance ids; plain Cityscapes reads them only
  // to score iIoU, and only where they exist.
  auto instances = CityscapesDataset::Instances::kNone;
  if (config.dataset == "cityscapes_panoptic") {
    instances = CityscapesDataset::Instances::kRequired;
  } else if (use == DatasetUse::kEvaluation) {
    instances = CityscapesDataset::Instances::kIfPresent;
  }
  return std::make_shared<CityscapesDataset>(config.root, split, std::move(d), instances);
}

std::shared_ptr<const Dataset> make_coco(const DataConfig& config, const std::string& split, DatasetDescriptor d,
                                         DatasetUse) {
  return std::make_shared<CocoPanopticDataset>(make_coco_panoptic(config.root, split, std::move(d)));
}

std::shared_ptr<const Dataset> make_folder(const DataConfig& config, const std::string& split, DatasetDescriptor d,
                                           DatasetUse) {
  return std::make_shared<FolderDataset>(config.root, split, std::move(d));
}

std::shared_ptr<const Dataset> make_ade20k(const DataConfig& config, const std::string& split, DatasetDescriptor d,
                                           DatasetUse) {
  return std::make_shared<SceneParsingDataset>(ade20k_layout(config.root, split), std::move(d));
}

std::shared_ptr<const Dataset> make_coco_stuff(const DataConfig& config, const std::string& split, DatasetDescriptor d,
                                               DatasetUse) {
  return std::make_shared<SceneParsingDataset>(coco_stuff_layout(config.root, split), std::move(d));
}

std::shared_ptr<const Dataset> make_pascal_context(const DataConfig& config, const std::string& split,
                                                   DatasetDescriptor d, DatasetUse) {
  return std::make_shared<PascalContextDataset>(config.root, split, std::move(d));
}

// The one list of dataset kinds: data.dataset validation reads its names.
const core::NamedTable<DatasetBuilder>& dataset_table() {
  static const core::NamedTable<DatasetBuilder> table = {
      {"voc", make_voc},
      {"voc_aug", make_voc},
      {"cityscapes", make_cityscapes},
      {"cityscapes_panoptic", make_cityscapes},
      {"coco_panoptic", make_coco},
      {"ade20k", make_ade20k},
      {"coco_stuff", make_coco_stuff},
      {"pascal_context", make_pascal_context},
      {"folder", make_folder},
  };
  return table;
}

}  // namespace

std::vector<std::string> dataset_names() { return core::table_names(dataset_table()); }

std::shared_ptr<const Dataset> make_dataset(const DataConfig& config, const std::string& split, DatasetUse use) {
  if (const DatasetBuilder* build = core::table_find(dataset_table(), config.dataset)) {
    return (*build)(config, split, load_config_descriptor(config), use);
  }
  throw ConfigError("data.dataset: '" + config.dataset + "' is not a dataset kind");
}

}  // namespace deeplab::data
