#pragma once
// An exported TorchScript file (export_torchscript) loaded for inference
// without a config: its meta.json gives the classes, palette, input
// normalisation and the facts inference needs (output stride, align_corners,
// whether inputs are padded to the stride).  `deeplab predict --model` runs it.

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <memory>
#include <string>

#include "deeplab/export/export_metadata.h"
#include "deeplab/models/outputs.h"

namespace torch::jit {
struct Module;
}

namespace deeplab::exporting {

class ExportedModel {
 public:
  /// Loads `path` onto `device`; IoError naming the file when it is not a
  /// TorchScript file with meta.json, Error when it has no semantic logits.
  ExportedModel(const std::string& path, c10::Device device);
  ~ExportedModel();
  ExportedModel(ExportedModel&&) noexcept;
  ExportedModel& operator=(ExportedModel&&) noexcept;

  /// Every output of the file for normalised images [N, 3, H, W] as named
  /// model outputs: "semantic" (logits), and for a Panoptic-DeepLab export
  /// "center" (heatmap) and "offset".
  /// A fixed-size export (meta.json "fixed_input_size": a mask transformer,
  /// whose axial attention is traced at export.input_size and batch 1) runs
  /// image by image, padded to that size, and crops the outputs back;
  /// DataError for a larger image.
  models::ModelOutputs outputs(const at::Tensor& images);
  /// True when meta.json carries Panoptic-DeepLab's post-processing settings.
  bool is_panoptic() const;

  const ExportMetadata& meta() const { return meta_; }
  const std::string& path() const { return path_; }
  /// meta.extra facts, with the defaults `deeplab export` used before it wrote them.
  int output_stride() const;
  bool align_corners() const;
  bool pad_to_stride() const;

 private:
  models::ModelOutputs raw_outputs(const at::Tensor& images);
  at::Tensor pad_to_fixed_size(const at::Tensor& images) const;

  std::string path_;
  ExportMetadata meta_;
  std::unique_ptr<torch::jit::Module> module_;
};

}  // namespace deeplab::exporting
