#include "deeplab/train/panoptic_loss.h"

#include <torch/torch.h>

#include "deeplab/core/error.h"

namespace deeplab::train {

namespace {

const torch::Tensor& output_named(const models::ModelOutputs& outputs, const std::string& name) {
  const auto it = outputs.find(name);
  if (it == outputs.end()) throw ConfigError("the panoptic loss needs a '" + name + "' model output");
  return it->second.value;
}

const torch::Tensor& target(const torch::Tensor& t, const char* name) {
  if (!t.defined()) {
    throw ConfigError(std::string("the panoptic loss needs the loader's '") + name +
                      "' targets (data loaders make them for model.arch: panoptic_deeplab)");
  }
  return t;
}

// fp32 losses even under autocast; fp64 stays fp64 for exactness tests.
torch::Tensor loss_precision(const torch::Tensor& x) {
  return x.scalar_type() == torch::kDouble ? x : x.to(torch::kFloat);
}

}  // namespace

PanopticLoss::PanopticLoss(LossConfig config, int num_classes, int ignore_label, GlobalSum global_sum)
    : config_(config), semantic_(std::move(config), num_classes, ignore_label, std::move(global_sum)) {}

torch::Tensor PanopticLoss::mean_over_nonzero(const torch::Tensor& per_pixel) const {
  const auto flat = per_pixel.flatten(1);
  const auto nonzero = (flat.detach() != 0).sum(1).to(flat.options());
  const auto per_image = flat.sum(1) / nonzero.clamp_min(1);
  const auto images = semantic_.global(torch::full({}, static_cast<double>(flat.size(0)), per_image.options()));
  return per_image.sum() / images.clamp_min(1);
}

LossTerms PanopticLoss::terms(const models::ModelOutputs& outputs, const data::Batch& batch) const {
  const auto& semantic = output_named(outputs, models::output_name::kSemantic);
  const auto center = loss_precision(output_named(outputs, models::output_name::kCenter));
  const auto offset = loss_precision(output_named(outputs, models::output_name::kOffset));
  const auto& center_target = target(batch.center, "center");
  const auto& offset_target = target(batch.offset, "offset");

  const auto center_loss = (center - center_target.to(center.options())).square().squeeze(1) *
                           target(batch.center_weights, "center_weights").to(center.options());
  const auto offset_loss = (offset - offset_target.to(offset.options())).abs().mean(1) *
                           target(batch.offset_weights, "offset_weights").to(offset.options());
  return {
      {models::output_name::kSemantic,
       config_.semantic_weight * semantic_(semantic, batch.labels, target(batch.semantic_weights, "semantic_weights"))},
      {models::output_name::kCenter, config_.center_weight * mean_over_nonzero(center_loss)},
      {models::output_name::kOffset, config_.offset_weight * mean_over_nonzero(offset_loss)},
  };
}

LossFn PanopticLoss::as_function(LossConfig config, int num_classes, int ignore_label, GlobalSum global_sum) {
  auto loss = std::make_shared<const PanopticLoss>(std::move(config), num_classes, ignore_label, std::move(global_sum));
  return [loss](const models::ModelOutputs& outputs, const data::Batch& batch) { return loss->terms(outputs, batch); };
}

}  // namespace deeplab::train
