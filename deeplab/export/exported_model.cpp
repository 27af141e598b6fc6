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
  const c10::IValue out = module_->forward({images});
  models::ModelOutputs result;
  if (out.isTensor()) {
    result[models::output_name::kSemantic] = {out.toTensor(), models::OutputKind::kLogits};
    return result;
  }
  if (!out.isGenericDict()) throw Error(path_ + ": the model returns neither a tensor nor a dict of tensors");
  for (const auto& item : out.toGenericDict()) {
    const std::string name = item.key().toStringRef();
    const models::OutputKind kind = name == models::output_name::kCenter   ? models::OutputKind::kHeatmap
                                    : name == models::output_name::kOffset ? models::OutputKind::kOffsets
                                                                           : models::OutputKind::kLogits;
    result[name] = {item.value().toTensor(), kind};
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
