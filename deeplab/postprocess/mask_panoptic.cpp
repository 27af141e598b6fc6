#include "deeplab/postprocess/mask_panoptic.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <unordered_map>

#include "deeplab/core/error.h"

namespace deeplab::postprocess {
namespace {

struct SlotClasses {
  std::vector<int64_t> cls;
  std::vector<double> confidence;
};

SlotClasses slot_classes(const at::Tensor& class_logits) {
  const at::Tensor probs = torch::softmax(class_logits.to(torch::kDouble), 1);
  const auto best = probs.slice(1, 0, probs.size(1) - 1).max(1);  // void dropped
  const at::Tensor cls = std::get<1>(best).contiguous(), conf = std::get<0>(best).contiguous();
  SlotClasses out;
  out.cls.assign(cls.data_ptr<int64_t>(), cls.data_ptr<int64_t>() + cls.numel());
  out.confidence.assign(conf.data_ptr<double>(), conf.data_ptr<double>() + conf.numel());
  return out;
}

// Pixels whose value's region (all pixels of that value) is smaller than
// `limit` become 0; 0 itself stays 0.
void drop_small_regions(std::vector<int64_t>& values, int64_t limit) {
  if (limit <= 0) return;
  std::unordered_map<int64_t, int64_t> count;  // value -> pixels
  for (const int64_t v : values) ++count[v];
  for (int64_t& v : values) {
    if (v != 0 && count[v] < limit) v = 0;
  }
}

// From each pixel's slot (-1: none) to the panoptic and semantic maps:
// thing instances smaller than thing_area_limit and stuff classes smaller
// than stuff_area_limit become void; instance numbers k = 1, 2 ... per class
// follow `order`.
PanopticPrediction segments_to_prediction(const std::vector<int64_t>& slot_of, const std::vector<int64_t>& order,
                                          const SlotClasses& classes, const std::vector<bool>& is_thing,
                                          const MaskPanopticOptions& o, int64_t h, int64_t w) {
  const int64_t pixels = h * w, slots = static_cast<int64_t>(classes.cls.size());
  const auto num_classes = static_cast<int64_t>(is_thing.size());
  // Area limits: thing instances by slot, stuff by class (1-based, 0 = none).
  std::vector<int64_t> thing_slot(static_cast<size_t>(pixels), 0), stuff_class(static_cast<size_t>(pixels), 0);
  for (int64_t i = 0; i < pixels; ++i) {
    const int64_t s = slot_of[static_cast<size_t>(i)];
    if (s < 0) continue;
    const int64_t c = classes.cls[static_cast<size_t>(s)];
    (is_thing[static_cast<size_t>(c)] ? thing_slot : stuff_class)[static_cast<size_t>(i)] =
        is_thing[static_cast<size_t>(c)] ? s + 1 : c + 1;
  }
  drop_small_regions(thing_slot, o.thing_area_limit);
  drop_small_regions(stuff_class, o.stuff_area_limit);

  // Instance numbers k = 1, 2 ... per class, in painting order.
  std::vector<int64_t> instance(static_cast<size_t>(slots), 0);
  std::vector<int64_t> next(static_cast<size_t>(num_classes), 1);
  std::vector<bool> present(static_cast<size_t>(slots), false);
  for (const int64_t s : thing_slot) {
    if (s > 0) present[static_cast<size_t>(s - 1)] = true;
  }
  for (const int64_t s : order) {
    if (present[static_cast<size_t>(s)]) {
      instance[static_cast<size_t>(s)] = next[static_cast<size_t>(classes.cls[static_cast<size_t>(s)])]++;
    }
  }
  PanopticPrediction out;
  out.panoptic = torch::full({h, w}, -1, torch::kInt);
  out.semantic = torch::full({h, w}, -1, torch::kLong);
  int32_t* pan = out.panoptic.data_ptr<int32_t>();
  int64_t* sem = out.semantic.data_ptr<int64_t>();
  for (int64_t i = 0; i < pixels; ++i) {
    if (thing_slot[static_cast<size_t>(i)] > 0) {
      const int64_t s = thing_slot[static_cast<size_t>(i)] - 1, c = classes.cls[static_cast<size_t>(s)];
      pan[i] = static_cast<int32_t>(c * o.label_divisor + instance[static_cast<size_t>(s)]);
      sem[i] = c;
    } else if (stuff_class[static_cast<size_t>(i)] > 0) {
      const int64_t c = stuff_class[static_cast<size_t>(i)] - 1;
      pan[i] = static_cast<int32_t>(c * o.label_divisor);
      sem[i] = c;
    }
  }
  out.centers = torch::zeros({0, 2}, torch::kLong);
  out.center_scores = torch::zeros({0}, torch::kFloat);
  return out;
}

std::vector<bool> thing_flags(const MaskPanopticOptions& o, int64_t num_classes) {
  std::vector<bool> is_thing(static_cast<size_t>(num_classes), false);
  for (const int t : o.thing_ids) {
    if (t >= 0 && t < num_classes) is_thing[static_cast<size_t>(t)] = true;
  }
  return is_thing;
}

void check_shapes(const at::Tensor& mask_logits, const at::Tensor& class_logits, const char* who) {
  if (mask_logits.dim() != 3 || class_logits.dim() != 2 || class_logits.size(0) != mask_logits.size(0) ||
      class_logits.size(1) < 2) {
    throw DataError(std::string(who) + ": expected mask logits [S, H, W] and class logits [S, K + 1], got " +
                    std::to_string(mask_logits.dim()) + "-D and " + std::to_string(class_logits.dim()) + "-D");
  }
}

}  // namespace

PanopticPrediction mask_panoptic(const at::Tensor& mask_logits, const at::Tensor& class_logits,
                                 const MaskPanopticOptions& o) {
  check_shapes(mask_logits, class_logits, "mask_panoptic");
  const int64_t slots = mask_logits.size(0), h = mask_logits.size(1), w = mask_logits.size(2), pixels = h * w;
  const SlotClasses classes = slot_classes(class_logits);
  const std::vector<bool> is_thing = thing_flags(o, class_logits.size(1) - 1);
  // The slots' probabilities at each pixel, and each slot's binary mask.
  const at::Tensor probs = torch::softmax(mask_logits.to(torch::kDouble).reshape({slots, pixels}), 0).contiguous();
  const double* p = probs.data_ptr<double>();
  std::vector<double> score(static_cast<size_t>(slots), 0.0);
  for (int64_t s = 0; s < slots; ++s) {
    double sum = 0;
    int64_t n = 0;
    for (int64_t i = 0; i < pixels; ++i) {
      const double v = p[s * pixels + i];
      if (v > o.pixel_confidence_threshold) {
        sum += v;
        ++n;
      }
    }
    const double mask_score = n > 0 ? sum / static_cast<double>(n) : 0.0;
    score[static_cast<size_t>(s)] = std::pow(classes.confidence[static_cast<size_t>(s)], o.reorder_class_weight) *
                                    std::pow(mask_score, o.reorder_mask_weight);
  }
  std::vector<int64_t> order(static_cast<size_t>(slots));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return score[static_cast<size_t>(a)] > score[static_cast<size_t>(b)]; });

  // Paint: slot_of[i] = the slot that owns pixel i, -1 for none.
  std::vector<int64_t> slot_of(static_cast<size_t>(pixels), -1);
  for (const int64_t s : order) {
    const int64_t c = classes.cls[static_cast<size_t>(s)];
    const double threshold = is_thing[static_cast<size_t>(c)] ? o.class_threshold_thing : o.class_threshold_stuff;
    if (classes.confidence[static_cast<size_t>(s)] < threshold) continue;
    int64_t original = 0, unpainted = 0;
    for (int64_t i = 0; i < pixels; ++i) {
      if (p[s * pixels + i] > o.pixel_confidence_threshold) {
        ++original;
        unpainted += slot_of[static_cast<size_t>(i)] < 0;
      }
    }
    if (!(static_cast<double>(unpainted) > static_cast<double>(original) * o.overlap_threshold)) continue;
    for (int64_t i = 0; i < pixels; ++i) {
      if (p[s * pixels + i] > o.pixel_confidence_threshold && slot_of[static_cast<size_t>(i)] < 0) {
        slot_of[static_cast<size_t>(i)] = s;
      }
    }
  }

  return segments_to_prediction(slot_of, order, classes, is_thing, o, h, w);
}

PanopticPrediction pixel_panoptic(const at::Tensor& mask_logits, const at::Tensor& class_logits,
                                  const MaskPanopticOptions& o) {
  check_shapes(mask_logits, class_logits, "pixel_panoptic");
  const int64_t slots = mask_logits.size(0), h = mask_logits.size(1), w = mask_logits.size(2), pixels = h * w;
  const SlotClasses classes = slot_classes(class_logits);
  const std::vector<bool> is_thing = thing_flags(o, class_logits.size(1) - 1);
  std::vector<bool> detected(static_cast<size_t>(slots));
  for (int64_t s = 0; s < slots; ++s) {
    detected[static_cast<size_t>(s)] = classes.confidence[static_cast<size_t>(s)] >= o.class_threshold;
  }
  std::vector<int64_t> slot_of(static_cast<size_t>(pixels), -1);
  const at::Tensor logits = mask_logits.to(torch::kFloat).reshape({slots, pixels}).contiguous();
  const float* l = logits.data_ptr<float>();
  for (int64_t i = 0; i < pixels; ++i) {
    int64_t best = -1, best_detected = -1;  // first maxima, as argmax
    for (int64_t s = 0; s < slots; ++s) {
      const float v = l[s * pixels + i];
      if (best < 0 || v > l[best * pixels + i]) best = s;
      if (detected[static_cast<size_t>(s)] && (best_detected < 0 || v > l[best_detected * pixels + i])) {
        best_detected = s;
      }
    }
    // An undetected slot above every detected one leaves the pixel void.
    if (best_detected < 0 || l[best * pixels + i] != l[best_detected * pixels + i]) continue;
    double sum = 0;  // softmax over the detected slots: the best one's share
    const double top = l[best_detected * pixels + i];
    for (int64_t s = 0; s < slots; ++s) {
      if (detected[static_cast<size_t>(s)]) sum += std::exp(static_cast<double>(l[s * pixels + i]) - top);
    }
    if (1.0 / sum > o.pixel_confidence_threshold) slot_of[static_cast<size_t>(i)] = best_detected;
  }
  std::vector<int64_t> order(static_cast<size_t>(slots));
  std::iota(order.begin(), order.end(), 0);
  return segments_to_prediction(slot_of, order, classes, is_thing, o, h, w);
}

namespace {

// Rows (or columns) of a `from`-long axis that each of `to` input pixels reads.
at::Tensor nearest_index(int64_t to, int64_t from) {
  return (torch::arange(to, torch::kLong) * from).div(to, "floor").clamp_max(from - 1);
}

at::Tensor upsample_nearest(const at::Tensor& map, int64_t height, int64_t width) {
  if (map.size(0) == height && map.size(1) == width) return map;
  return map.index_select(0, nearest_index(height, map.size(0))).index_select(1, nearest_index(width, map.size(1)));
}

// The class of each pixel's most likely slot: what void pixels of the
// semantic map get, so a semantic score sees a class everywhere.
at::Tensor best_slot_class(const at::Tensor& mask_logits, const at::Tensor& class_logits) {
  const at::Tensor slot_class = class_logits.slice(1, 0, class_logits.size(1) - 1).argmax(1);
  return slot_class.index_select(0, mask_logits.argmax(0).flatten()).view({mask_logits.size(1), mask_logits.size(2)});
}

// deeplab2's pixel-wise path: logits resized to the input, aligned corners.
std::vector<PanopticPrediction> pixel_panoptic_batch(const at::Tensor& masks, const at::Tensor& classes,
                                                     const MaskPanopticOptions& options, int64_t height,
                                                     int64_t width) {
  std::vector<PanopticPrediction> out(static_cast<size_t>(masks.size(0)));
  for (int64_t i = 0; i < masks.size(0); ++i) {  // one full-size image of logits at a time
    const at::Tensor full =
        torch::upsample_bilinear2d(masks[i].unsqueeze(0).to(torch::kFloat), {height, width}, true).squeeze(0);
    PanopticPrediction p = pixel_panoptic(full, classes[i], options);
    p.semantic = torch::where(p.semantic < 0, best_slot_class(full, classes[i]), p.semantic);
    out[static_cast<size_t>(i)] = std::move(p);
  }
  return out;
}

int64_t scaled_area(int64_t limit, double ratio) {
  return limit <= 0 ? limit : static_cast<int64_t>(std::llround(static_cast<double>(limit) * ratio));
}

}  // namespace

std::vector<PanopticPrediction> mask_panoptic_batch(const at::Tensor& mask_logits, const at::Tensor& class_logits,
                                                    const MaskPanopticOptions& options, int64_t height, int64_t width) {
  if (mask_logits.dim() != 4 || class_logits.dim() != 3 || mask_logits.size(0) != class_logits.size(0)) {
    throw DataError("mask_panoptic_batch: expected mask logits [N, S, h, w] and class logits [N, S, K + 1], got " +
                    std::to_string(mask_logits.dim()) + "-D and " + std::to_string(class_logits.dim()) + "-D");
  }
  if (options.mode != "maskwise" && options.mode != "pixelwise") {
    throw ConfigError("data.panoptic.mask.mode: '" + options.mode + "'; expected maskwise or pixelwise");
  }
  const at::Tensor masks = mask_logits.to(torch::kCPU), classes = class_logits.to(torch::kCPU);
  if (options.mode == "pixelwise") return pixel_panoptic_batch(masks, classes, options, height, width);
  const int64_t h = masks.size(2), w = masks.size(3);
  const double ratio = static_cast<double>(h * w) / static_cast<double>(height * width);
  MaskPanopticOptions at_stride = options;
  at_stride.thing_area_limit = scaled_area(options.thing_area_limit, ratio);
  at_stride.stuff_area_limit = scaled_area(options.stuff_area_limit, ratio);
  std::vector<PanopticPrediction> out(static_cast<size_t>(masks.size(0)));
  at::parallel_for(0, masks.size(0), 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      PanopticPrediction p = mask_panoptic(masks[i], classes[i], at_stride);
      p.semantic = torch::where(p.semantic < 0, best_slot_class(masks[i], classes[i]), p.semantic);
      p.panoptic = upsample_nearest(p.panoptic, height, width).contiguous();
      p.semantic = upsample_nearest(p.semantic, height, width).contiguous();
      out[static_cast<size_t>(i)] = std::move(p);
    }
  });
  return out;
}

}  // namespace deeplab::postprocess
