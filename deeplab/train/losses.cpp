#include "deeplab/train/losses.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "deeplab/core/error.h"
#include "deeplab/train/region_losses.h"

namespace deeplab::train {

namespace F = torch::nn::functional;

SegmentationLoss::SegmentationLoss(LossConfig config, int num_classes, int ignore_label, GlobalSum global_sum)
    : config_(std::move(config)), global_sum_(std::move(global_sum)), ignore_label_(ignore_label) {
  if (!config_.class_weights.empty()) {
    if (static_cast<int>(config_.class_weights.size()) != num_classes) {
      throw ConfigError("train.loss.class_weights has " + std::to_string(config_.class_weights.size()) +
                        " values but the model has " + std::to_string(num_classes) + " classes");
    }
    class_weights_ = torch::tensor(config_.class_weights, torch::kDouble);
  }
}

torch::Tensor SegmentationLoss::global(torch::Tensor local) const {
  return global_sum_ ? global_sum_(std::move(local)) : local;
}

// Σ over valid pixels of their class weight (their count without weights).
torch::Tensor SegmentationLoss::valid_weight(const torch::Tensor& labels, const torch::Tensor& pixel_weights,
                                             const torch::Tensor& like) const {
  const auto valid = labels != ignore_label_;
  torch::Tensor weights = valid.to(like.scalar_type());
  if (class_weights_.defined()) {
    const auto index = labels.masked_fill(~valid, 0).flatten();
    weights = weights * class_weights_.to(like.options()).index_select(0, index).view_as(weights);
  }
  if (pixel_weights.defined()) weights = weights * pixel_weights.to(like.options());
  return weights.sum();
}

torch::Tensor SegmentationLoss::operator()(const torch::Tensor& logits, const torch::Tensor& labels,
                                           const torch::Tensor& pixel_weights) const {
  // Losses in fp32 even under autocast (fp64 stays fp64, for exact tests).
  const auto x = logits.scalar_type() == torch::kDouble ? logits : logits.to(torch::kFloat);
  auto options = F::CrossEntropyFuncOptions()
                     .ignore_index(ignore_label_)
                     .label_smoothing(config_.label_smoothing)
                     .reduction(torch::kNone);
  if (class_weights_.defined()) options.weight(class_weights_.to(x.options()));
  auto per_pixel = F::cross_entropy(x, labels, options);  // [N, H, W], ignored pixels 0
  if (pixel_weights.defined()) per_pixel = per_pixel * pixel_weights.to(per_pixel.options());
  if (config_.top_k_percent >= 1.0) {
    const auto denominator = global(valid_weight(labels, pixel_weights, per_pixel).detach());
    // No valid pixel anywhere: the sum is 0 too; keep the graph, not a NaN.
    return per_pixel.sum() / denominator.clamp_min(1e-12);
  }
  const auto flat = per_pixel.flatten(1);
  const int64_t pixels = flat.size(1);
  const int64_t k = std::clamp<int64_t>(std::llround(config_.top_k_percent * pixels), 1, std::max<int64_t>(pixels, 1));
  const auto top = std::get<0>(flat.topk(k, /*dim=*/1));
  const auto nonzero = (top.detach() > 0).sum(1).to(top.options());
  const auto per_image = top.sum(1) / nonzero.clamp_min(1);
  const auto images = global(torch::full({}, static_cast<double>(flat.size(0)), per_image.options()));
  return per_image.sum() / images.clamp_min(1);
}

void SegmentationLoss::add_terms(LossTerms& terms, const std::string& name, double weight, const torch::Tensor& logits,
                                 const torch::Tensor& labels) const {
  const auto& c = config_;
  if (c.cross_entropy > 0) terms.emplace_back(name, weight * c.cross_entropy * (*this)(logits, labels));
  if (c.dice <= 0 && c.lovasz_softmax <= 0 && c.focal <= 0) return;
  const auto x = logits.scalar_type() == torch::kDouble ? logits : logits.to(torch::kFloat);
  // Per-image terms are means over the global batch's images, focal a mean
  // over its valid pixels, as cross-entropy: one process or many, one objective.
  const auto images = global(torch::full({}, static_cast<double>(x.size(0)), x.options()));
  if (c.dice > 0) {
    const auto dice = dice_loss_per_image(x, labels, ignore_label_, c.dice_smooth).sum() / images;
    terms.emplace_back(name + "/dice", weight * c.dice * dice);
  }
  if (c.lovasz_softmax > 0) {
    const auto lovasz = lovasz_softmax_per_image(x, labels, ignore_label_).sum() / images;
    terms.emplace_back(name + "/lovasz_softmax", weight * c.lovasz_softmax * lovasz);
  }
  if (c.focal > 0) {
    const auto weights = class_weights_.defined() ? class_weights_.to(x.options()) : torch::Tensor();
    const auto pixels = global(valid_weight(labels, {}, x).detach()).clamp_min(1e-12);
    const auto focal = focal_loss_sum(x, labels, ignore_label_, c.focal_gamma, weights) / pixels;
    terms.emplace_back(name + "/focal", weight * c.focal * focal);
  }
}

LossTerms SegmentationLoss::terms(const models::ModelOutputs& outputs, const data::Batch& batch) const {
  const auto semantic = outputs.find(models::output_name::kSemantic);
  if (semantic == outputs.end()) throw ConfigError("the model has no 'semantic' output for the segmentation loss");
  LossTerms terms;
  add_terms(terms, semantic->first, 1.0, semantic->second.value, batch.labels);
  const auto aux = outputs.find(models::output_name::kAux);
  if (aux != outputs.end() && config_.aux_weight > 0) {
    add_terms(terms, aux->first, config_.aux_weight, aux->second.value, batch.labels);
  }
  for (const auto& [name, output] : outputs) {
    if (name.rfind("msc/", 0) == 0) add_terms(terms, name, 1.0, output.value, batch.labels);
  }
  if (terms.empty()) {
    throw ConfigError("train.loss: every term has weight 0 (cross_entropy, dice, lovasz_softmax, focal)");
  }
  return terms;
}

LossFn SegmentationLoss::as_function(LossConfig config, int num_classes, int ignore_label, GlobalSum global_sum) {
  auto loss =
      std::make_shared<const SegmentationLoss>(std::move(config), num_classes, ignore_label, std::move(global_sum));
  return [loss](const models::ModelOutputs& outputs, const data::Batch& batch) { return loss->terms(outputs, batch); };
}

GlobalSum global_sum_over(const std::shared_ptr<core::ProcessGroup>& group) {
  if (!group) return {};
  return [group](torch::Tensor local) {
    auto sum = local.detach().to(torch::kDouble).contiguous();
    group->all_reduce(sum);
    return sum.to(local.scalar_type());
  };
}

torch::Tensor total_loss(const LossTerms& terms) {
  torch::Tensor sum;
  for (const auto& term : terms) sum = sum.defined() ? sum + term.second : term.second;
  return sum;
}

}  // namespace deeplab::train
