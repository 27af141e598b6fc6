#include "deeplab/train/region_losses.h"

#include <torch/torch.h>

namespace deeplab::train {

torch::Tensor focal_loss_sum(const torch::Tensor& logits, const torch::Tensor& labels, int ignore, double gamma,
                             const torch::Tensor& class_weights) {
  const auto valid = labels != ignore;
  const auto target = labels.masked_fill(~valid, 0).unsqueeze(1);                 // [N, 1, H, W]
  const auto log_p = torch::log_softmax(logits, 1).gather(1, target).squeeze(1);  // log p_t
  auto loss = -(1 - log_p.exp()).pow(gamma) * log_p;
  if (class_weights.defined()) {
    loss = loss * class_weights.to(loss.options()).index_select(0, target.flatten()).view_as(loss);
  }
  return loss.masked_fill(~valid, 0).sum();
}

torch::Tensor dice_loss_per_image(const torch::Tensor& logits, const torch::Tensor& labels, int ignore, double smooth) {
  const int64_t classes = logits.size(1);
  const auto valid = (labels != ignore).unsqueeze(1).to(logits.scalar_type());  // [N, 1, H, W]
  const auto probs = torch::softmax(logits, 1) * valid;
  const auto onehot = torch::one_hot(labels.masked_fill(labels == ignore, 0), classes)  // [N, H, W, C]
                          .permute({0, 3, 1, 2})
                          .to(logits.scalar_type()) *
                      valid;
  const auto intersection = (probs * onehot).sum({2, 3});  // [N, C]
  const auto total = probs.sum({2, 3}) + onehot.sum({2, 3});
  const auto dice = (2 * intersection + smooth) / (total + smooth);
  return 1 - dice.mean(1);
}

namespace {

// Gradient of the Lovász extension of the Jaccard loss at sorted ground
// truth `gt_sorted` (Berman et al., Alg. 1): the Jaccard index's increments.
torch::Tensor lovasz_grad(const torch::Tensor& gt_sorted) {
  const auto gts = gt_sorted.sum();
  const auto intersection = gts - gt_sorted.cumsum(0);
  const auto union_ = gts + (1 - gt_sorted).cumsum(0);
  const auto jaccard = 1 - intersection / union_;
  if (gt_sorted.numel() <= 1) return jaccard;
  return torch::cat({jaccard.slice(0, 0, 1), jaccard.slice(0, 1) - jaccard.slice(0, 0, -1)});
}

torch::Tensor lovasz_one_image(const torch::Tensor& probs, const torch::Tensor& labels) {
  // probs [C, P], labels [P] over the image's valid pixels.
  std::vector<torch::Tensor> losses;
  for (int64_t c = 0; c < probs.size(0); ++c) {
    const auto fg = (labels == c).to(probs.scalar_type());
    if (fg.sum().item<double>() == 0) continue;  // classes present only
    const auto errors = (fg - probs[c]).abs();
    const auto sorted = errors.sort(0, /*descending=*/true);
    const auto& order = std::get<1>(sorted);
    losses.push_back(torch::dot(std::get<0>(sorted), lovasz_grad(fg.index_select(0, order))));
  }
  if (losses.empty()) return probs.sum() * 0;
  return torch::stack(losses).mean();
}

}  // namespace

torch::Tensor lovasz_softmax_per_image(const torch::Tensor& logits, const torch::Tensor& labels, int ignore) {
  const auto probs = torch::softmax(logits, 1);
  std::vector<torch::Tensor> per_image;
  for (int64_t n = 0; n < logits.size(0); ++n) {
    const auto flat_labels = labels[n].flatten();
    const auto keep = (flat_labels != ignore).nonzero().squeeze(1);
    const auto p = probs[n].flatten(1).index_select(1, keep);
    per_image.push_back(lovasz_one_image(p, flat_labels.index_select(0, keep)));
  }
  return torch::stack(per_image);
}

}  // namespace deeplab::train
