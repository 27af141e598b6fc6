#include "deeplab/export/model_metadata.h"

#include "deeplab/core/error.h"
#include "deeplab/data/descriptor.h"
#include "deeplab/data/pretraining_normalization.h"
#include "deeplab/export/panoptic_export.h"
#include "deeplab/weights/model_io.h"

namespace deeplab::exporting {

ExportMetadata export_metadata(const models::ModelConfig& model, const data::DataConfig& data, int64_t height,
                               int64_t width) {
  ExportMetadata meta;
  meta.arch = weights::describe_arch(model);
  const auto descriptor = data::load_descriptor(data::resolve_descriptor_path(data.descriptor, data.dataset));
  meta.class_names = descriptor.classes;
  for (const auto& c : descriptor.palette) meta.palette.push_back({c[0], c[1], c[2]});
  if (static_cast<int>(meta.class_names.size()) != model.num_classes) {
    throw ConfigError("model.num_classes is " + std::to_string(model.num_classes) + " but the " + descriptor.name +
                      " descriptor (" + descriptor.source + ") lists " + std::to_string(meta.class_names.size()) +
                      " classes");
  }
  meta.mean = data.mean;
  meta.std = data.std;
  meta.input_size = {height, width};
  meta.extra["num_classes"] = std::to_string(model.num_classes);
  meta.extra["output_stride"] = std::to_string(model.backbone.output_stride);
  meta.extra["align_corners"] = model.align_corners ? "true" : "false";
  meta.extra["input"] = "RGB, 0..1 scaled, then (x - mean) / std, NCHW float32";
  // imagenet, inception ([-1, 1]: the TF-trained Xceptions) or custom (data.mean / data.std).
  meta.extra["normalization"] = data::normalization_name(data.mean, data.std);
  if (models::is_panoptic(model)) add_panoptic_metadata(meta, data, descriptor, models::is_mask_transformer(model));
  // Axial attention's lengths and relative positions are traced as constants:
  // the file runs at input_size, and ExportedModel pads smaller inputs to it.
  if (models::is_mask_transformer(model)) meta.extra["fixed_input_size"] = "true";
  return meta;
}

}  // namespace deeplab::exporting
