#include "deeplab/train/max_loss.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "deeplab/core/error.h"
#include "deeplab/core/linear_assignment.h"

namespace deeplab::train {

namespace {
constexpr double kEps = 1e-5;            // deeplab2's denominator epsilon and weight floors
constexpr double kVoidLogit = -99999.0;  // never sample a void pixel
const char* const kTermNames[] = {"pq_class", "pq_mask_dice", "mask_id_ce", "instance_disc"};

// The stuff classes: every train id that is not a thing, in increasing order.
std::vector<int64_t> stuff_ids(const MaXLossOptions& o) {
  std::vector<int64_t> stuff;
  for (int64_t c = 0; c < o.num_classes; ++c) {
    if (std::find(o.thing_ids.begin(), o.thing_ids.end(), c) == o.thing_ids.end()) stuff.push_back(c);
  }
  return stuff;
}

// One image's segments: each pixel's segment (thing instance j -> j, stuff
// class s -> max_things + its rank among the stuff ids; -1 for none), the
// segments' areas and classes (-1 where absent), and the non-void pixels.
struct ImageTruth {
  torch::Tensor pixel_segment;         // [P] long
  torch::Tensor non_void;              // [P] in the predictions' dtype
  torch::Tensor area;                  // [M] long
  std::vector<int64_t> present;        // segments with pixels, increasing
  std::vector<int64_t> present_class;  // their train ids
};

ImageTruth image_truth(const MaXTargets& t, int64_t b, const MaXLossOptions& o, const std::vector<int64_t>& stuff,
                       torch::ScalarType dtype) {
  const torch::Tensor semantic = t.semantic[b].flatten().to(torch::kLong).cpu();
  const torch::Tensor thing = t.thing_ids[b].flatten().to(torch::kLong).cpu();
  const int64_t segments = o.max_things + static_cast<int64_t>(stuff.size());
  torch::Tensor stuff_column = torch::full({o.num_classes}, -1, torch::kLong);
  for (size_t s = 0; s < stuff.size(); ++s) stuff_column[stuff[s]] = o.max_things + static_cast<int64_t>(s);
  const torch::Tensor in_range = (semantic >= 0) & (semantic < o.num_classes);
  const torch::Tensor stuff_segment = torch::where(in_range, stuff_column.index({semantic.clamp(0, o.num_classes - 1)}),
                                                   torch::full_like(semantic, -1));
  if ((thing >= o.max_things).any().item<bool>()) {
    throw DataError("MaX loss: a thing id reaches " + std::to_string(thing.max().item<int64_t>()) +
                    ", beyond max_things " + std::to_string(o.max_things));
  }
  ImageTruth truth;
  truth.pixel_segment = torch::where(thing >= 0, thing, stuff_segment);
  truth.non_void = (semantic != o.ignore_label).to(dtype);
  const torch::Tensor assigned = truth.pixel_segment.masked_select(truth.pixel_segment >= 0);
  truth.area = torch::bincount(assigned, {}, segments);
  const torch::Tensor thing_classes = t.thing_classes[b].to(torch::kLong).cpu();
  for (int64_t m = 0; m < segments; ++m) {
    if (truth.area[m].item<int64_t>() == 0) continue;
    truth.present.push_back(m);
    truth.present_class.push_back(m < o.max_things ? thing_classes[m].item<int64_t>() : stuff[m - o.max_things]);
  }
  return truth;
}

// Per segment (rows) and slot (columns), the sum of `per_slot` [N, P] over
// each segment's pixels: [M, N].
torch::Tensor segment_sums(const ImageTruth& truth, const torch::Tensor& per_slot) {
  const torch::Tensor valid = (truth.pixel_segment >= 0).nonzero().squeeze(1).to(per_slot.device());
  const torch::Tensor segment = truth.pixel_segment.to(per_slot.device()).index_select(0, valid);
  return torch::zeros({truth.area.size(0), per_slot.size(0)}, per_slot.options())
      .index_add(0, segment, per_slot.index_select(1, valid).t());
}

// What the final output's matching fixes for every output of one image.
struct Matching {
  torch::Tensor segment, slot, segment_class;  // [pairs] long: the matched pairs and the segments' classes
  torch::Tensor slot_dice;                     // [N]: a matched slot's dice with its segment (0 elsewhere)
  torch::Tensor segment_class_prob;            // [pairs]: the matched slot's probability of the segment's class
  torch::Tensor void_share;                    // [N]: share of each slot's mask on void pixels
};

Matching match(const MaXPrediction& p, int64_t b, const ImageTruth& truth) {
  torch::NoGradGuard no_grad;
  const torch::Tensor probs = torch::softmax(p.mask_logits[b].flatten(1), 0);  // [N, P]
  const torch::Tensor non_void = truth.non_void.to(probs.device());
  const torch::Tensor masked = probs * non_void;
  const int64_t slots = probs.size(0);
  const auto index_options = torch::TensorOptions().dtype(torch::kLong).device(probs.device());
  Matching out;
  out.slot_dice = torch::zeros({slots}, probs.options());
  out.void_share = ((probs * (1 - non_void)).sum(1) / (probs.sum(1) + kEps));
  if (truth.present.empty()) {
    out.segment = out.slot = out.segment_class = torch::zeros({0}, index_options);
    out.segment_class_prob = torch::zeros({0}, probs.options());
    return out;
  }
  const auto rows = torch::tensor(truth.present, torch::kLong).to(probs.device());
  const torch::Tensor area = truth.area.to(probs.device()).index_select(0, rows).to(probs.scalar_type());
  const torch::Tensor dice =
      segment_sums(truth, masked).index_select(0, rows) / ((area.unsqueeze(1) + masked.sum(1).unsqueeze(0)) / 2 + kEps);
  const torch::Tensor class_probs = torch::softmax(p.class_logits[b], -1);  // [N, K + 1]
  const auto classes = torch::tensor(truth.present_class, torch::kLong).to(probs.device());
  const torch::Tensor class_similarity = class_probs.index_select(1, classes).t();  // [R, N]
  const torch::Tensor cost = (-(dice * class_similarity)).to(torch::kDouble).cpu().contiguous();
  const std::vector<double> costs(cost.data_ptr<double>(), cost.data_ptr<double>() + cost.numel());
  const core::Assignment a = core::solve_assignment(costs, cost.size(0), cost.size(1));
  const torch::Tensor row = torch::tensor(a.row_of, index_options), col = torch::tensor(a.col_of, index_options);
  out.segment = rows.index_select(0, row);
  out.segment_class = classes.index_select(0, row);
  out.slot = col;
  out.slot_dice.index_put_({col}, dice.index({row, col}));
  out.segment_class_prob = class_similarity.index({row, col});
  return out;
}

// Σ / #non-zero (0 when all are zero): deeplab2's per-image reduction.
torch::Tensor mean_over_nonzero(const torch::Tensor& losses) {
  const torch::Tensor count = (losses != 0).sum().to(losses.scalar_type());
  return losses.sum() / count.clamp_min(1);
}

struct ImageTerms {
  torch::Tensor pq_class, pq_mask_dice, mask_id_ce, instance_disc;
};

ImageTerms image_terms(const MaXPrediction& p, int64_t b, const ImageTruth& truth, const Matching& m,
                       const MaXTargets& t, const MaXLossOptions& o) {
  const auto options = p.mask_logits.options();
  const torch::Tensor log_probs = torch::log_softmax(p.mask_logits[b].flatten(1), 0);  // [N, P]
  const torch::Tensor probs = log_probs.exp();
  const int64_t slots = probs.size(0);
  const torch::Tensor has_segment = (truth.pixel_segment >= 0).to(options.dtype()).to(options.device());
  ImageTerms terms;

  // Mask dice of each matched slot with its segment (prediction on segment pixels only).
  if (m.segment.numel() == 0) {
    terms.pq_mask_dice = torch::zeros({}, options);
  } else {
    const torch::Tensor intersection = segment_sums(truth, probs).index({m.segment, m.slot});
    const torch::Tensor predicted = (probs * has_segment).sum(1).index_select(0, m.slot);
    const torch::Tensor area = truth.area.to(options.device()).index_select(0, m.segment).to(options.dtype());
    const torch::Tensor dice_loss = 1 - (2 * intersection + 1) / (predicted + area + 1);
    terms.pq_mask_dice = (m.segment_class_prob.clamp_min(kEps) * dice_loss).sum() * (o.focal_alpha / slots);
  }

  // Mask-id cross-entropy: each pixel towards its segment's slot.
  const torch::Tensor pixel_segment = truth.pixel_segment.to(options.device());
  const torch::Tensor slot_of_segment =
      torch::full({truth.area.size(0)}, -1, m.slot.options()).index_put_({m.segment}, m.slot);
  const torch::Tensor pixel_slot = torch::where(pixel_segment >= 0, slot_of_segment.index({pixel_segment.clamp_min(0)}),
                                                torch::full_like(pixel_segment, -1));
  const torch::Tensor matched = pixel_slot >= 0;
  const torch::Tensor pixel_ce = -log_probs.gather(0, pixel_slot.clamp_min(0).unsqueeze(0)).squeeze(0) *
                                 matched.to(options.dtype()) * truth.non_void.to(options.device());
  terms.mask_id_ce = mean_over_nonzero(pixel_ce);

  // Slot classes: matched slots towards their segment's class, the rest towards void.
  const int64_t void_class = p.class_logits.size(2) - 1;
  const torch::Tensor target = torch::full({slots}, void_class, m.slot.options()).index_put_({m.slot}, m.segment_class);
  const torch::Tensor positive =
      torch::zeros({slots}, m.slot.options().dtype(torch::kBool)).index_put_({m.slot}, torch::tensor(true));
  const torch::Tensor class_ce = -torch::log_softmax(p.class_logits[b], -1).gather(1, target.unsqueeze(1)).squeeze(1);
  const torch::Tensor alpha =
      torch::where(positive, torch::full_like(class_ce, o.focal_alpha), torch::full_like(class_ce, 1 - o.focal_alpha));
  const torch::Tensor weight = torch::where(positive, m.slot_dice.clamp_min(kEps), m.void_share.clamp_min(kEps));
  terms.pq_class = mean_over_nonzero(alpha * weight * class_ce);

  // Instance discrimination over the sampled pixels.
  if (t.samples.defined()) {
    const torch::Tensor sample = t.samples[b].to(torch::kLong).to(options.device());
    const torch::Tensor features = p.pixel_embedding[b].flatten(1).index_select(1, sample).t();  // [k, E]
    const torch::Tensor segment = truth.pixel_segment.to(options.device()).index_select(0, sample);
    const torch::Tensor same =
        ((segment.unsqueeze(1) == segment.unsqueeze(0)) & (segment >= 0).unsqueeze(1)).to(options.dtype());
    const torch::Tensor target_rows = same / same.sum(1, true).clamp_min(1);
    const torch::Tensor logits = torch::matmul(features, features.t()) / o.instance_temperature;
    terms.instance_disc = mean_over_nonzero(-(target_rows * torch::log_softmax(logits, 1)).sum(1));
  }
  return terms;
}
}  // namespace

LossTerms max_deeplab_loss(const MaXPrediction& final_prediction, const std::vector<MaXPrediction>& auxiliary,
                           const MaXTargets& targets, const MaXLossOptions& o, const GlobalSum& global_sum) {
  const int64_t batch = final_prediction.mask_logits.size(0);
  if (final_prediction.class_logits.size(2) != o.num_classes + 1) {
    throw ConfigError("MaX loss: the class logits have " + std::to_string(final_prediction.class_logits.size(2)) +
                      " channels; model.num_classes " + std::to_string(o.num_classes) + " + void needs " +
                      std::to_string(o.num_classes + 1));
  }
  const std::vector<int64_t> stuff = stuff_ids(o);
  const auto dtype = final_prediction.mask_logits.scalar_type();
  std::vector<const MaXPrediction*> outputs = {&final_prediction};
  for (const auto& a : auxiliary) outputs.push_back(&a);
  // [output][term] -> per-image values summed over the local images.
  std::vector<std::vector<torch::Tensor>> sums(outputs.size(), std::vector<torch::Tensor>(4));
  for (int64_t b = 0; b < batch; ++b) {
    const ImageTruth truth = image_truth(targets, b, o, stuff, dtype);
    const Matching matching = match(final_prediction, b, truth);
    for (size_t i = 0; i < outputs.size(); ++i) {
      const ImageTerms t = image_terms(*outputs[i], b, truth, matching, targets, o);
      const torch::Tensor values[] = {t.pq_class, t.pq_mask_dice, t.mask_id_ce, t.instance_disc};
      for (int k = 0; k < 4; ++k) {
        if (!values[k].defined()) continue;
        sums[i][k] = sums[i][k].defined() ? sums[i][k] + values[k] : values[k];
      }
    }
  }
  // The mean over the global batch: every rank divides by the same count.
  double images = static_cast<double>(batch);
  if (global_sum) images = global_sum(torch::tensor(images, torch::kDouble)).item<double>();
  const double weights[] = {o.pq_weight, o.pq_weight, o.mask_id_weight, o.instance_weight};
  LossTerms terms;
  for (size_t i = 0; i < outputs.size(); ++i) {
    for (int k = 0; k < 4; ++k) {
      if (!sums[i][k].defined() || weights[k] == 0) continue;
      const std::string name = i == 0 ? kTermNames[k] : "aux" + std::to_string(i - 1) + "/" + kTermNames[k];
      terms.emplace_back(name, sums[i][k] * (weights[k] / images));
    }
  }
  return terms;
}

torch::Tensor sample_instance_pixels(const MaXTargets& targets, const MaXLossOptions& o, int64_t k, double temperature,
                                     const std::vector<uint64_t>& seeds) {
  const int64_t batch = targets.semantic.size(0);
  if (static_cast<int64_t>(seeds.size()) != batch) throw Error("sample_instance_pixels: one seed per image");
  const std::vector<int64_t> stuff = stuff_ids(o);
  std::vector<torch::Tensor> rows;
  for (int64_t b = 0; b < batch; ++b) {
    const ImageTruth truth = image_truth(targets, b, o, stuff, torch::kDouble);
    const int64_t pixels = truth.pixel_segment.numel();
    // A crop with fewer pixels at the loss resolution than k (a small crop,
    // a short side) takes every pixel, in random order.
    const int64_t draws = std::min(k, pixels);
    // Rarer segments are sampled more: log(P / area) x temperature.
    const torch::Tensor area =
        torch::where(truth.pixel_segment >= 0, truth.area.index({truth.pixel_segment.clamp_min(0)}),
                     torch::zeros_like(truth.pixel_segment))
            .to(torch::kDouble);
    torch::Tensor logits = torch::log(static_cast<double>(pixels) / area.clamp_min(1)) * temperature;
    logits = logits + (1 - truth.non_void) * kVoidLogit;
    at::Generator generator = at::detail::createCPUGenerator(seeds[b]);
    const torch::Tensor uniform =
        torch::rand({pixels}, generator, torch::TensorOptions().dtype(torch::kDouble)).clamp(1e-12, 1 - 1e-12);
    rows.push_back(std::get<1>(torch::topk(logits - torch::log(-torch::log(uniform)), draws)));
  }
  return torch::stack(rows);
}

}  // namespace deeplab::train
