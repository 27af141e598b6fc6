#pragma once
// Exporting Panoptic-DeepLab: the traced forward returns the named outputs
// as a dict {"semantic", "center", "offset"} (all at input size), and the
// metadata carries the post-processing settings, so a consumer of the
// TorchScript file runs the same C++ post-processing:
//
//   auto module = torch::jit::load(path);
//   auto out = module.forward({images}).toGenericDict();
//   auto options = exporting::panoptic_options_from_metadata(exporting::read_export_metadata(path));
//   auto result = postprocess::panoptic_from_batch(out.at("semantic").toTensor(),
//                                                  out.at("center").toTensor(),
//                                                  out.at("offset").toTensor(), options);

#include "deeplab/data/data_config.h"
#include "deeplab/data/descriptor.h"
#include "deeplab/export/export_metadata.h"
#include "deeplab/export/torchscript.h"
#include "deeplab/models/deeplab.h"
#include "deeplab/models/model_config.h"
#include "deeplab/postprocess/panoptic.h"

namespace deeplab::exporting {

/// What export traces: the semantic logits, or for a panoptic model the dict
/// of its outputs.
ExportForward export_forward(const models::ModelConfig& config, models::DeepLab model);

/// Adds the panoptic post-processing settings (`data.panoptic` and the
/// descriptor's things) to `meta.extra` ("panoptic.*" keys), and, for a
/// dataset with a label_map, the dataset's category id of each train id
/// ("panoptic.category_ids").  `mask_wise` (a mask transformer) adds the
/// mask-wise merge's settings ("panoptic.mask.*", data.panoptic.mask), which
/// panoptic_options_from_metadata turns into PanopticOptions::mask_wise.
void add_panoptic_metadata(ExportMetadata& meta, const data::DataConfig& data,
                           const data::DatasetDescriptor& descriptor, bool mask_wise = false);

/// The post-processing settings an exported panoptic model was saved with;
/// DataError naming the key when the metadata has none.
postprocess::PanopticOptions panoptic_options_from_metadata(const ExportMetadata& meta);

/// Gives `descriptor` (classes from the same metadata) the export's category
/// ids, so that saved panoptic files use the dataset's ids as the config path
/// does; without "panoptic.category_ids" the train ids stay the ids.
void apply_panoptic_category_ids(const ExportMetadata& meta, data::DatasetDescriptor& descriptor);

}  // namespace deeplab::exporting
