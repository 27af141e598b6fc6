#include "deeplab/export/exported_model.h"

#include <torch/script.h>

#include "deeplab/core/error.h"
#include "deeplab/export/torchscript.h"

namespace deeplab::exporting {
namespace {

std::string extra_or(const ExportMetadata& meta, const std::string& key, const std::string& fallback) {
  const auto it = meta.extra.find(key);
  return it == meta.extra.end() ? fallback : it->second;
}

}  // namespace

ExportedModel::ExportedModel(const std::string& path, c10::Device device)
    : path_(path), meta_(read_export_metadata(path)) {
  try {
    module_ = std::make_unique<torch::jit::Module>(torch::jit::load(path, device));
  } catch (const c10::Error& e) {
    throw IoError(path + ": cannot load the TorchScript model: " + e.what_without_backtrace());
  }
  module_->eval();
  if (meta_.class_names.empty()) throw IoError(path + ": meta.json lists no classes");
}

ExportedModel::~ExportedModel() = default;
ExportedModel::ExportedModel(ExportedModel&&) noexcept = default;
ExportedModel& ExportedModel::operator=(ExportedModel&&) noexcept = default;

models::ModelOutputs ExportedModel::outputs(const at::Tensor& images) {
  const int64_t height = images.size(2), width = images.size(3);
  if (extra_or(meta_, "fixed_input_size", "false") != "true") return raw_outputs(images);
  // Traced at one size and batch 1: one image at a time, padded to it.
  const at::Tensor padded = pad_to_fixed_size(images);
  models::ModelOutputs result;
  for (int64_t i = 0; i < padded.size(0); ++i) {
    for (auto& [name, output] : raw_outputs(padded.narrow(0, i, 1))) {
      models::crop_padded_output(output, padded.size(2), height, width);
      auto& joined = result[name];
      joined.kind = output.kind;
      joined.value = joined.value.defined() ? at::cat({joined.value, output.value}) : output.value;
    }
  }
  return result;
}

at::Tensor ExportedModel::pad_to_fixed_size(const at::Tensor& images) const {
  const int64_t fixed_h = meta_.input_size.at(0), fixed_w = meta_.input_size.at(1);
  const int64_t height = images.size(2), width = images.size(3);
  if (height > fixed_h || width > fixed_w) {
    throw DataError(path_ + ": this export runs at " + std::to_string(fixed_h) + "x" + std::to_string(fixed_w) +
                    " (its attention is traced at that size); an input of " + std::to_string(height) + "x" +
                    std::to_string(width) + " does not fit: export again with a larger --input-size");
  }
  // Zero in normalised space is the mean colour, what training pads with.
  return at::constant_pad_nd(images, {0, fixed_w - width, 0, fixed_h - height}, 0.0);
}

models::ModelOutputs ExportedModel::raw_outputs(const at::Tensor& images) {
  const c10::IValue out = module_->forward({images});
  models::ModelOutputs result;
  if (out.isTensor()) {
    result[models::output_name::kSemantic] = {out.toTensor(), models::OutputKind::kLogits};
    return result;
  }
  if (!out.isGenericDict()) throw Error(path_ + ": the model returns neither a tensor nor a dict of tensors");
  for (const auto& item : out.toGenericDict()) {
    const std::string name = item.key().toStringRef();
    result[name] = {item.value().toTensor(), models::output_kind_of(name)};
  }
  if (!result.count(models::output_name::kSemantic)) {
    throw Error(path_ + ": the model's output dict has no \"semantic\" logits");
  }
  return result;
}

bool ExportedModel::is_panoptic() const { return meta_.extra.count("panoptic.thing_ids") > 0; }

int ExportedModel::output_stride() const { return std::stoi(extra_or(meta_, "output_stride", "16")); }
bool ExportedModel::align_corners() const { return extra_or(meta_, "align_corners", "false") == "true"; }
bool ExportedModel::pad_to_stride() const { return extra_or(meta_, "pad_to_stride", "true") == "true"; }

}  // namespace deeplab::exporting
