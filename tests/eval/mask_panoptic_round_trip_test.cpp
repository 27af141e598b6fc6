// The mask transformers' post-processing (mask-wise: kMaX-DeepLab;
// pixel-wise: MaX-DeepLab) round trip through panoptic quality as
// `deeplab eval` scores it: ground truth (things with instance ids, stuff,
// every segment above the area limits) turned into ideal slot outputs
// (a slot's mask logits high on its segment, its class certain; unused
// slots void) and post-processed gives PQ, SQ and RQ of 100 %.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "deeplab/eval/panoptic_quality.h"
#include "deeplab/postprocess/mask_panoptic.h"
#include "deeplab/postprocess/panoptic_segments.h"

namespace deeplab::eval {
namespace {

void expect_ideal_slots_score_pq100(postprocess::MaskPanopticOptions options) {
  constexpr int64_t h = 96, w = 128, classes = 5;  // 0-2 stuff, 3-4 things
  auto label = torch::zeros({h, w}, torch::kLong), instances = torch::zeros({h, w}, torch::kInt);
  std::vector<at::Tensor> masks, class_rows;
  auto add_slot = [&](const at::Tensor& mask, int64_t cls) {
    masks.push_back(torch::where(mask, 10.0, -10.0).to(torch::kDouble));
    auto row = torch::zeros({classes + 1}, torch::kDouble);
    row[cls] = 12;
    class_rows.push_back(row);
  };
  auto box = [&](int64_t y0, int64_t y1, int64_t x0, int64_t x1) {
    auto m = torch::zeros({h, w}, torch::kBool);
    m.slice(0, y0, y1).slice(1, x0, x1).fill_(true);
    return m;
  };
  // Stuff: sky (0) rows 0-31, road (1) rows 64-95, wall (2) rows 32-63 left of column 64 (2,048 px).
  const std::vector<std::tuple<at::Tensor, int64_t>> stuff = {
      {box(0, 32, 0, w), 0}, {box(64, 96, 0, w), 1}, {box(32, 64, 0, 64), 2}};
  for (const auto& [mask, cls] : stuff) {
    label.masked_fill_(mask, cls);
    add_slot(mask, cls);
  }
  // Things: three of class 3 and one of class 4 side by side in rows 32-63 (512 px each).
  const std::vector<std::tuple<at::Tensor, int64_t, int32_t>> things = {{box(32, 64, 64, 80), 3, 3001},
                                                                        {box(32, 64, 80, 96), 3, 3002},
                                                                        {box(32, 64, 96, 112), 3, 3003},
                                                                        {box(32, 64, 112, 128), 4, 4001}};
  for (const auto& [mask, cls, instance] : things) {
    label.masked_fill_(mask, cls);
    instances.masked_fill_(mask, instance);
    add_slot(mask, cls);
  }
  for (int unused = 0; unused < 3; ++unused) {
    masks.push_back(torch::full({h, w}, -30.0, torch::kDouble));
    auto row = torch::zeros({classes + 1}, torch::kDouble);
    row[classes] = 12;  // void
    class_rows.push_back(row);
  }
  options.thing_ids = {3, 4};
  const auto merge = options.mode == "pixelwise" ? postprocess::pixel_panoptic : postprocess::mask_panoptic;
  const auto prediction = merge(torch::stack(masks), torch::stack(class_rows), options);

  std::vector<postprocess::PanopticCategory> categories;
  for (int c = 0; c < classes; ++c) categories.push_back({c, "class" + std::to_string(c), c >= 3});
  const auto gt = postprocess::ground_truth_segmentation(label, instances, options.thing_ids, 255);
  const auto pred = postprocess::predicted_segmentation(prediction.panoptic, options.label_divisor);
  PanopticQuality pq(categories);
  pq.add(gt.ids.data(), gt.segments, pred.ids.data(), pred.segments, static_cast<size_t>(h * w), "round trip");
  const PanopticResult result = pq.result();
  EXPECT_DOUBLE_EQ(result.all.pq, 1.0);
  EXPECT_DOUBLE_EQ(result.all.sq, 1.0);
  EXPECT_DOUBLE_EQ(result.all.rq, 1.0);
  EXPECT_EQ(result.all.n, classes);
  EXPECT_DOUBLE_EQ(result.things.pq, 1.0);
  EXPECT_DOUBLE_EQ(result.stuff.pq, 1.0);
}

// Cityscapes' kMaX settings; every segment reaches its area limit.
TEST(MaskPanopticRoundTrip, IdealSlotsScorePq100) { expect_ideal_slots_score_pq100({}); }

// MaX-DeepLab's COCO settings: class 0.7, pixel 0.4, areas 100 / 1600.
TEST(MaskPanopticRoundTrip, PixelWiseIdealSlotsScorePq100) {
  postprocess::MaskPanopticOptions options;
  options.mode = "pixelwise";
  options.thing_area_limit = 100;
  options.stuff_area_limit = 1600;
  expect_ideal_slots_score_pq100(options);
}

}  // namespace
}  // namespace deeplab::eval
