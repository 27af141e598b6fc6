// Mask-wise panoptic post-processing (MaX/kMaX-DeepLab, deeplab2's
// evaluator.proto settings) on constructed slot outputs: overlapping slots
// (the more confident paints first; one that would mostly repaint is
// dropped), a slot below every threshold, all-void, the area limits, and a
// round trip that gives back the ground truth segment for segment; and the
// pixel-wise post-processing (MaX-DeepLab) on the same kind of outputs.

#include "deeplab/postprocess/mask_panoptic.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>
#include <set>

namespace deeplab::postprocess {
namespace {

constexpr int64_t kH = 64, kW = 64, kClasses = 4;  // classes 0, 1 stuff; 2, 3 things

MaskPanopticOptions options() {
  MaskPanopticOptions o;
  o.thing_ids = {2, 3};
  return o;  // Cityscapes' settings: 0.4 pixel, 0.5 / 0.3 class, overlap 0.9, areas 256 / 2048
}

// Slot logits: high inside `mask` (bool [H, W]), low outside.
at::Tensor slot_logits(const at::Tensor& mask) { return torch::where(mask, 10.0, -10.0).to(torch::kDouble); }

// Class logits of one slot: `confident` logit on class `c`, 0 elsewhere (void included).
at::Tensor class_row(int64_t c, double confident) {
  auto row = torch::zeros({kClasses + 1}, torch::kDouble);
  row[c] = confident;
  return row;
}

at::Tensor box(int64_t y0, int64_t y1, int64_t x0, int64_t x1) {
  auto m = torch::zeros({kH, kW}, torch::kBool);
  m.slice(0, y0, y1).slice(1, x0, x1).fill_(true);
  return m;
}

// Slots that own nothing: uniform logits everywhere, void class.
at::Tensor background_slot() { return torch::zeros({kH, kW}, torch::kDouble); }

std::map<int32_t, int64_t> areas(const at::Tensor& panoptic) {
  std::map<int32_t, int64_t> out;
  const auto p = panoptic.contiguous();
  for (int64_t i = 0; i < p.numel(); ++i) ++out[p.data_ptr<int32_t>()[i]];
  return out;
}

TEST(MaskPanoptic, TheMoreConfidentSlotPaintsFirstAndARepaintingOneIsDropped) {
  // Stuff 0 everywhere; thing A (class 2, very confident) on rows 0-31, thing B
  // (class 3, less) on rows 16-39: half of B is A's, so B is dropped (0.5 <= 0.9).
  const auto everything = torch::ones({kH, kW}, torch::kBool);
  auto a = box(0, 32, 0, 64), b = box(16, 40, 0, 64);
  at::Tensor masks = torch::stack({slot_logits(everything) - 15, slot_logits(a), slot_logits(b)});
  at::Tensor classes = torch::stack({class_row(0, 8), class_row(2, 9), class_row(3, 6)});
  PanopticPrediction out = mask_panoptic(masks, classes, options());
  auto got = areas(out.panoptic);
  EXPECT_EQ(got[2001], 32 * 64) << "A";
  EXPECT_EQ(got.count(3001), 0u) << "B repaints half of A";
  // B on rows 30-63 overlaps A by 2 of 34 rows: more than 90 % is new, so it
  // paints the rest.
  b = box(30, 64, 0, 64);
  masks = torch::stack({slot_logits(a), slot_logits(b)});
  classes = torch::stack({class_row(2, 9), class_row(3, 6)});
  got = areas(mask_panoptic(masks, classes, options()).panoptic);
  EXPECT_EQ(got[2001], 32 * 64);
  EXPECT_EQ(got[3001], 32 * 64);
}

TEST(MaskPanoptic, ASlotBelowEveryThresholdAndAllVoidPaintNothing) {
  const auto a = box(0, 32, 0, 64);
  // Class confidence of a 3-way tie over 4 classes + void is about 0.3: below the thing threshold 0.5.
  auto classes = torch::stack({class_row(2, 0.5), class_row(0, 9)});
  auto masks = torch::stack({slot_logits(a), slot_logits(~a)});
  auto got = areas(mask_panoptic(masks, classes, options()).panoptic);
  EXPECT_EQ(got[-1], 32 * 64) << "the unconfident thing's pixels are void";
  EXPECT_EQ(got[0], 32 * 64) << "the confident stuff slot still paints";
  // Every slot's void logit wins: the whole image is void.
  auto all_void = torch::zeros({2, kClasses + 1}, torch::kDouble);
  all_void.select(1, kClasses).fill_(9);
  const PanopticPrediction none = mask_panoptic(masks, all_void, options());
  EXPECT_EQ(areas(none.panoptic), (std::map<int32_t, int64_t>{{-1, kH * kW}}));
  EXPECT_EQ(none.semantic.min().item<int64_t>(), -1);
}

TEST(MaskPanoptic, SmallInstancesAndSmallStuffBecomeVoid) {
  const auto small_thing = box(0, 10, 0, 10);      // 100 px < 256
  const auto small_stuff = box(20, 40, 0, 50);     // 1000 px < 2048
  const auto rest = ~(small_thing | small_stuff);  // 2996 px of stuff 0
  auto masks = torch::stack({slot_logits(small_thing), slot_logits(small_stuff), slot_logits(rest)});
  auto classes = torch::stack({class_row(2, 9), class_row(1, 9), class_row(0, 9)});
  auto got = areas(mask_panoptic(masks, classes, options()).panoptic);
  EXPECT_EQ(got[-1], 100 + 1000);
  EXPECT_EQ(got[0], kH * kW - 1100);
  EXPECT_EQ(got.size(), 2u);
}

TEST(MaskPanoptic, IdealSlotsGiveBackTheGroundTruth) {
  // Ground truth: stuff 0 (top), stuff 1 (bottom), three things of class 2
  // and one of class 3, each above the area limits; 8 slots, 2 of them unused.
  std::vector<std::pair<at::Tensor, int64_t>> segments = {{box(0, 16, 0, 64), 0},   {box(48, 64, 0, 64), 1},
                                                          {box(16, 48, 0, 20), 2},  {box(16, 48, 20, 40), 2},
                                                          {box(16, 32, 40, 64), 2}, {box(32, 48, 40, 64), 3}};
  std::vector<at::Tensor> masks, classes;
  for (const auto& [mask, cls] : segments) {
    masks.push_back(slot_logits(mask));
    classes.push_back(class_row(cls, 9));
  }
  for (int unused = 0; unused < 2; ++unused) {
    masks.push_back(background_slot() - 20);
    auto row = torch::zeros({kClasses + 1}, torch::kDouble);
    row[kClasses] = 9;  // void
    classes.push_back(row);
  }
  MaskPanopticOptions o = options();
  o.stuff_area_limit = 1000;  // the stuff segments have 1024 px each, the things 384-640
  const PanopticPrediction out = mask_panoptic(torch::stack(masks), torch::stack(classes), o);
  // Every ground-truth segment is exactly one predicted segment of its class.
  std::set<int32_t> seen;
  for (const auto& [mask, cls] : segments) {
    const at::Tensor ids = out.panoptic.masked_select(mask);
    const int32_t id = ids[0].item<int32_t>();
    EXPECT_TRUE(torch::equal(ids, torch::full_like(ids, id))) << "one id over the segment";
    EXPECT_EQ((out.panoptic == id).sum().item<int64_t>(), mask.sum().item<int64_t>()) << "and nowhere else";
    EXPECT_EQ(id / 1000, cls);
    EXPECT_TRUE(seen.insert(id).second) << "distinct segments";
  }
  EXPECT_EQ((out.panoptic == -1).sum().item<int64_t>(), 0);
  EXPECT_TRUE(seen.count(2001) && seen.count(2002) && seen.count(2003) && seen.count(3001));
}

// The batch form merges at the model's stride and brings the result to the
// input size: each stride-2 pixel becomes a 2 x 2 block, the area limits
// (input pixels) shrink by 4, void pixels' semantic class is their best slot's.
TEST(MaskPanoptic, BatchMergesAtTheStrideAndUpsamplesToTheInput) {
  const auto everything = torch::ones({kH, kW}, torch::kBool);
  const auto car = box(0, 8, 0, 8);        // 64 pixels at the stride: 256 input pixels
  const auto speck = box(40, 42, 40, 42);  // 4 pixels: 16 input pixels
  at::Tensor masks = torch::stack({slot_logits(everything) - 15, slot_logits(car), slot_logits(speck)});
  at::Tensor classes = torch::stack({class_row(0, 8), class_row(2, 9), class_row(3, 9)});
  MaskPanopticOptions o = options();
  o.thing_area_limit = 100;  // input pixels: the car (256) stays, the speck (16) goes
  o.stuff_area_limit = 0;
  const auto out = mask_panoptic_batch(masks.unsqueeze(0).to(torch::kFloat), classes.unsqueeze(0), o, 2 * kH, 2 * kW);
  ASSERT_EQ(out.size(), 1u);
  const at::Tensor& pan = out[0].panoptic;
  EXPECT_EQ(pan.sizes(), (std::vector<int64_t>{2 * kH, 2 * kW}));
  auto got = areas(pan);
  EXPECT_EQ(got[2 * 1000 + 1], 256);             // the car: 8 x 8 at stride 2
  EXPECT_EQ(got.count(3 * 1000 + 1), 0u);        // the speck is below the limit
  EXPECT_EQ(got[-1], 16);                        // the speck's pixels are void (its slot owned them)
  EXPECT_EQ(got[0], 4 * kH * kW - 256 - 16);     // stuff 0 everywhere else
  EXPECT_EQ(pan[15][15].item<int32_t>(), 2001);  // inside the car's block
  EXPECT_EQ(pan[16][16].item<int32_t>(), 0);     // just outside it
  // All-void slots: panoptic void, semantic still the best slot's class.
  at::Tensor void_classes = torch::stack({class_row(4, 9), class_row(4, 9), class_row(4, 9)});
  void_classes.select(1, 1).fill_(1.0);  // class 1 second best for every slot
  const auto none = mask_panoptic_batch(masks.unsqueeze(0), void_classes.unsqueeze(0), o, kH, kW);
  EXPECT_TRUE((none[0].panoptic == -1).all().item<bool>());
  EXPECT_TRUE((none[0].semantic == 1).all().item<bool>());
}

MaskPanopticOptions pixel_wise() {
  MaskPanopticOptions o = options();
  o.mode = "pixelwise";  // class 0.7, pixel 0.4
  o.thing_area_limit = 0;
  o.stuff_area_limit = 0;
  return o;
}

// Thing A (class 2) on rows 0-31, stuff B (class 0) on rows 32-63; slot C
// (class 3 at about 0.3 confidence: undetected) peaks on an 8 x 8 box inside
// B; A, B and stuff D (class 1) tie on rows 0-3.
TEST(PixelPanoptic, DetectedSlotsClaimTheirPixelsAndUndetectedOrUnsurePixelsAreVoid) {
  const auto top = box(0, 4, 0, 64), peak = box(40, 48, 0, 8);
  const at::Tensor a = slot_logits(box(0, 32, 0, 64)), b = slot_logits(box(32, 64, 0, 64) | top);
  const at::Tensor c = torch::where(peak, 20.0, -10.0).to(torch::kDouble), d = slot_logits(top);
  const at::Tensor masks = torch::stack({a, b, c, d});
  const at::Tensor classes = torch::stack({class_row(2, 9), class_row(0, 9), class_row(3, 0.5), class_row(1, 9)});
  const PanopticPrediction out = pixel_panoptic(masks, classes, pixel_wise());
  auto got = areas(out.panoptic);
  // The tie gives the first slot a third of the softmax (< 0.4): void; C's
  // box has an undetected slot on top: void.
  EXPECT_EQ(got[-1], 4 * 64 + 8 * 8);
  EXPECT_EQ(got[2001], 28 * 64);
  EXPECT_EQ(got[0], 32 * 64 - 8 * 8);
  EXPECT_EQ(got.size(), 3u) << "D wins no pixel";
  EXPECT_EQ(out.semantic[10][0].item<int64_t>(), 2);
  EXPECT_EQ(out.semantic[0][0].item<int64_t>(), -1);
}

TEST(PixelPanoptic, NoDetectedSlotLeavesEverythingVoidAndAreaLimitsApply) {
  const at::Tensor masks = torch::stack({slot_logits(box(0, 32, 0, 64)), slot_logits(box(32, 64, 0, 64))});
  const PanopticPrediction none =
      pixel_panoptic(masks, torch::stack({class_row(2, 0.5), class_row(0, 0.5)}), pixel_wise());
  EXPECT_EQ(areas(none.panoptic), (std::map<int32_t, int64_t>{{-1, kH * kW}}));
  // 2048 px of each: a thing limit of 2049 drops the thing, a stuff limit of
  // 2048 keeps the stuff.
  MaskPanopticOptions o = pixel_wise();
  o.thing_area_limit = 2049;
  o.stuff_area_limit = 2048;
  const auto got = areas(pixel_panoptic(masks, torch::stack({class_row(2, 9), class_row(0, 9)}), o).panoptic);
  EXPECT_EQ(got, (std::map<int32_t, int64_t>{{-1, 2048}, {0, 2048}}));
}

// The batch form resizes the logits to the input with aligned corners before
// merging (deeplab2's pixel-wise path): A on columns 0-1 of 5, B on 2-4
// becomes A on columns 0-3 of 9 (column 3 reads 1.5: a tie, the first slot
// takes it with half the softmax) and B on 4-8.
TEST(PixelPanoptic, BatchMergesAtTheInputSizeFromAlignedCornerLogits) {
  auto left = torch::zeros({5, 5}, torch::kBool);
  left.slice(1, 0, 2).fill_(true);
  const at::Tensor masks = torch::stack({torch::where(left, 10.0, -10.0), torch::where(~left, 10.0, -10.0)});
  const at::Tensor classes = torch::stack({class_row(2, 9), class_row(0, 9)});
  const auto out = mask_panoptic_batch(masks.unsqueeze(0).to(torch::kFloat), classes.unsqueeze(0), pixel_wise(), 9, 9);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].panoptic.sizes(), (std::vector<int64_t>{9, 9}));
  EXPECT_EQ(areas(out[0].panoptic), (std::map<int32_t, int64_t>{{0, 45}, {2001, 36}}));
  EXPECT_EQ(out[0].panoptic[4][3].item<int32_t>(), 2001);
  EXPECT_EQ(out[0].panoptic[4][4].item<int32_t>(), 0);
  MaskPanopticOptions bad = pixel_wise();
  bad.mode = "slotwise";
  EXPECT_THROW(mask_panoptic_batch(masks.unsqueeze(0), classes.unsqueeze(0), bad, 9, 9), std::exception);
}

}  // namespace
}  // namespace deeplab::postprocess
