#include "deeplab/train/losses.h"

#include <torch/torch.h>

#include <cmath>

#include "deeplab/core/error.h"

namespace deeplab::train {

namespace F = torch::nn::functional;

SegmentationLoss::SegmentationLoss(LossConfig config, int num_classes, int ignore_label)
    : config_(std::move(config)), ignore_label_(ignore_label) {
  if (!config_.class_weights.empty()) {
    if (static_cast<int>(config_.class_weights.size()) != num_classes) {
      throw ConfigError("train.loss.class_weights has " + std::to_string(config_.class_weights.size()) +
                        " values but the model has " + std::to_string(num_classes) + " classes");
    }
    class_weights_ = torch::tensor(config_.class_weights, torch::kFloat);
  }
}

torch::Tensor SegmentationLoss::operator()(const torch::Tensor& logits, const torch::Tensor& labels) const {
  auto options = F::CrossEntropyFuncOptions().ignore_index(ignore_label_).label_smoothing(config_.label_smoothing);
  const auto logits32 = logits.to(torch::kFloat);  // losses in fp32 even under autocast
  if (class_weights_.defined()) options.weight(class_weights_.to(logits.device()));
  if (config_.top_k_percent >= 1.0) return F::cross_entropy(logits32, labels, options.reduction(torch::kMean));

  // Bootstrapping: only the hardest k % of the valid pixels count.
  const auto per_pixel = F::cross_entropy(logits32, labels, options.reduction(torch::kNone)).flatten();
  const auto valid = per_pixel.masked_select(labels.flatten() != ignore_label_);
  if (valid.numel() == 0) return per_pixel.sum() * 0.0;  // keeps the graph; no pixel counts
  const auto k = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(config_.top_k_percent * valid.numel())));
  return std::get<0>(valid.topk(k)).mean();
}

LossTerms SegmentationLoss::terms(const models::ModelOutputs& outputs, const data::Batch& batch) const {
  const auto semantic = outputs.find(models::output_name::kSemantic);
  if (semantic == outputs.end()) throw ConfigError("the model has no 'semantic' output for the segmentation loss");
  LossTerms terms{{semantic->first, (*this)(semantic->second.value, batch.labels)}};
  const auto aux = outputs.find(models::output_name::kAux);
  if (aux != outputs.end() && config_.aux_weight > 0) {
    terms.emplace_back(aux->first, config_.aux_weight * (*this)(aux->second.value, batch.labels));
  }
  for (const auto& [name, output] : outputs) {
    if (name.rfind("msc/", 0) == 0) terms.emplace_back(name, (*this)(output.value, batch.labels));
  }
  return terms;
}

LossFn SegmentationLoss::as_function(LossConfig config, int num_classes, int ignore_label) {
  auto loss = std::make_shared<const SegmentationLoss>(std::move(config), num_classes, ignore_label);
  return [loss](const models::ModelOutputs& outputs, const data::Batch& batch) { return loss->terms(outputs, batch); };
}

torch::Tensor total_loss(const LossTerms& terms) {
  torch::Tensor sum;
  for (const auto& term : terms) sum = sum.defined() ? sum + term.second : term.second;
  return sum;
}

}  // namespace deeplab::train
