// One test per panopticapi rule on tiny one-row images whose numbers are
// derived by hand: strict IoU > 0.5, VOID out of the union, crowd never
// matched, unmatched predictions on VOID/crowd ignored, empty classes left out.

#include "deeplab/eval/panoptic_quality.h"

#include <gtest/gtest.h>

#include <functional>

#include "deeplab/core/error.h"

namespace deeplab::eval {
namespace {

// Categories: 1 thing, 2 stuff, 3 another thing, 4 a stuff class never seen.
std::vector<postprocess::PanopticCategory> categories() {
  return {{1, "thing", true}, {2, "stuff", false}, {3, "other", true}, {4, "empty", false}};
}

// Expands runs {id, length} into one row of pixel ids.
std::vector<uint32_t> row(const std::vector<std::pair<uint32_t, int>>& runs) {
  std::vector<uint32_t> ids;
  for (const auto& [id, n] : runs) ids.insert(ids.end(), static_cast<size_t>(n), id);
  return ids;
}

const PqClassResult& per_class(const PanopticResult& r, int id) {
  for (const auto& c : r.per_class) {
    if (c.category.id == id) return c;
  }
  throw std::runtime_error("no class");
}

// gt:   g1 (thing) px 0-1, g2 (thing) px 2-6, s (stuff) px 7-19
// pred: p1 (thing) px 0-1 + 7-8   -> |g1 ∩ p1| = 2, union 4 + 2 - 2 = 4: IoU exactly 0.5, NOT matched
//       p2 (thing) px 2-6 + 9-11  -> 5 / (8 + 5 - 5) = 0.5 + 1/8, matched
//       ps (stuff) px 12-19       -> 8 / (8 + 13 - 8) = 8/13, matched
// thing: TP 1 (IoU 5/8), FN 1 (g1), FP 1 (p1) -> PQ 0.625 / 2, SQ 0.625, RQ 1/2
// stuff: TP 1 -> PQ = SQ = 8/13, RQ 1
TEST(PanopticQuality, IouExactlyHalfIsUnmatchedJustAboveIsMatched) {
  PanopticQuality pq(categories());
  const auto gt = row({{1, 2}, {2, 5}, {3, 13}});
  const auto pred = row({{11, 2}, {12, 5}, {11, 2}, {12, 3}, {13, 8}});
  pq.add(gt.data(), {{1, 1, 2, false}, {2, 1, 5, false}, {3, 2, 13, false}}, pred.data(),
         {{11, 1, 0, false}, {12, 1, 0, false}, {13, 2, 0, false}}, gt.size(), "img1");
  const PanopticResult r = pq.result();
  const auto& thing = per_class(r, 1);
  EXPECT_EQ(thing.counts.tp, 1);
  EXPECT_EQ(thing.counts.fn, 1);
  EXPECT_EQ(thing.counts.fp, 1);
  EXPECT_DOUBLE_EQ(thing.pq, 0.625 / 2.0);
  EXPECT_DOUBLE_EQ(thing.sq, 0.625);
  EXPECT_DOUBLE_EQ(thing.rq, 0.5);
  EXPECT_DOUBLE_EQ(per_class(r, 2).pq, 8.0 / 13.0);
  EXPECT_EQ(r.all.n, 2);  // classes 3 and 4 have no TP, FP or FN
  EXPECT_DOUBLE_EQ(r.all.pq, (0.625 / 2.0 + 8.0 / 13.0) / 2.0);
  EXPECT_DOUBLE_EQ(r.things.pq, 0.625 / 2.0);
  EXPECT_DOUBLE_EQ(r.stuff.rq, 1.0);
}

// gt:   VOID px 0-3, g (thing) px 4-6, crowd c (thing, iscrowd) px 7-12, s (stuff) px 13-19
// pred: q1 (thing) px 0-6: ∩g 3, VOID 4 -> union 7 + 3 - 3 - 4 = 3: IoU 1 (3/7 if VOID counted)
//       q2 (thing) px 7-11 + 13: unmatched (crowd is never matched); 5 of 6 px on the
//          crowd region of its own category -> 5/6 > 0.5: ignored, not a FP
//       q3 (other) px 12 + 14-15: 1 px on the crowd of *another* category -> 0/3: FP
//       q4 (stuff) px 16-19: 4 / (4 + 7 - 4) = 4/7: matched
// thing: TP 1 (IoU 1), no FN (crowd), no FP -> PQ 1;  other: FP 1 -> PQ 0 (counted)
// stuff: PQ 4/7;  empty: left out.
// Things n 2: PQ (1 + 0)/2, SQ (1 + 0)/2;  Stuff n 1: 4/7;  All n 3: (1 + 0 + 4/7)/3
TEST(PanopticQuality, VoidAndCrowdRules) {
  PanopticQuality pq(categories());
  const auto gt = row({{0, 4}, {5, 3}, {6, 6}, {7, 7}});
  const auto pred = row({{21, 7}, {22, 5}, {23, 1}, {22, 1}, {23, 2}, {24, 4}});
  pq.add(gt.data(), {{5, 1, 3, false}, {6, 1, 6, true}, {7, 2, 7, false}}, pred.data(),
         {{21, 1, 0, false}, {22, 1, 0, false}, {23, 3, 0, false}, {24, 2, 0, false}}, gt.size(), "img2");
  const PanopticResult r = pq.result();
  EXPECT_EQ(per_class(r, 1).counts.tp, 1);
  EXPECT_EQ(per_class(r, 1).counts.fp, 0);
  EXPECT_EQ(per_class(r, 1).counts.fn, 0);
  EXPECT_DOUBLE_EQ(per_class(r, 1).pq, 1.0);
  EXPECT_EQ(per_class(r, 3).counts.fp, 1);
  EXPECT_TRUE(per_class(r, 3).counted);
  EXPECT_FALSE(per_class(r, 4).counted);
  EXPECT_EQ(r.things.n, 2);
  EXPECT_DOUBLE_EQ(r.things.pq, 0.5);
  EXPECT_DOUBLE_EQ(r.things.sq, 0.5);
  EXPECT_EQ(r.stuff.n, 1);
  EXPECT_DOUBLE_EQ(r.stuff.pq, 4.0 / 7.0);
  EXPECT_EQ(r.all.n, 3);
  EXPECT_DOUBLE_EQ(r.all.pq, (1.0 + 0.0 + 4.0 / 7.0) / 3.0);
}

// gt:   VOID px 0-5, s (stuff) px 6-9
// pred: qv (thing) px 0-3 + 6: 4 of 5 px on VOID -> ignored
//       qs (stuff) px 4-5 + 7-9: ∩s 3, VOID 2 -> union 5 + 4 - 3 - 2 = 4: IoU 3/4
// gt:   VOID px 0-1, s px 2-9 (second image)
// pred: qh (thing) px 0-3: exactly half on VOID -> not "more than half": FP
//       qs2 (stuff) px 4-9: 6 / (6 + 8 - 6) = 3/4
// thing: FP 1 -> PQ 0;  stuff: TP 2, IoU sum 1.5 -> PQ 0.75
TEST(PanopticQuality, UnmatchedPredictionMostlyOnVoidIsIgnoredHalfIsNot) {
  PanopticQuality pq(categories());
  const auto gt1 = row({{0, 6}, {7, 4}});
  const auto pred1 = row({{31, 4}, {32, 2}, {31, 1}, {32, 3}});
  pq.add(gt1.data(), {{7, 2, 4, false}}, pred1.data(), {{31, 1, 0, false}, {32, 2, 0, false}}, gt1.size(), "a");
  EXPECT_EQ(per_class(pq.result(), 1).counts.fp, 0);
  const auto gt2 = row({{0, 2}, {7, 8}});
  const auto pred2 = row({{41, 4}, {42, 6}});
  PanopticQuality second(categories());
  second.add(gt2.data(), {{7, 2, 8, false}}, pred2.data(), {{41, 1, 0, false}, {42, 2, 0, false}}, gt2.size(), "b");
  pq.merge(second);
  const PanopticResult r = pq.result();
  EXPECT_EQ(per_class(r, 1).counts.fp, 1);
  EXPECT_DOUBLE_EQ(per_class(r, 1).pq, 0.0);
  EXPECT_EQ(per_class(r, 2).counts.tp, 2);
  EXPECT_DOUBLE_EQ(per_class(r, 2).pq, 0.75);
  EXPECT_DOUBLE_EQ(r.all.pq, 0.375);
}

// Ground-truth areas come from the annotation, not the pixels (panopticapi):
// gt g has 4 px but area 6 in its JSON; pred covers the 4 px -> IoU 4 / (4 + 6 - 4) = 2/3.
TEST(PanopticQuality, GroundTruthAreaFromAnnotation) {
  PanopticQuality pq(categories());
  const auto ids = row({{1, 4}});
  pq.add(ids.data(), {{1, 1, 6, false}}, ids.data(), {{1, 1, 999, false}}, ids.size(), "c");
  EXPECT_DOUBLE_EQ(per_class(pq.result(), 1).sq, 4.0 / 6.0);
}

void expect_error(const std::function<void()>& f, const std::vector<std::string>& parts) {
  try {
    f();
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    for (const auto& part : parts) EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

TEST(PanopticQuality, MalformedInputNamesImageAndSegment) {
  PanopticQuality pq(categories());
  const auto gt = row({{1, 2}, {2, 2}});
  const std::vector<postprocess::PanopticSegment> gt_segments = {{1, 1, 2, false}, {2, 2, 2, false}};
  const auto pred = row({{11, 2}, {12, 2}});
  expect_error(
      [&] {
        pq.add(gt.data(), gt_segments, pred.data(), {{11, 1, 0, false}}, 4, "img7");
      },
      {"img7", "12", "in the PNG but not in the JSON"});
  expect_error(
      [&] {
        pq.add(gt.data(), gt_segments, pred.data(), {{11, 1, 0, false}, {12, 2, 0, false}, {13, 2, 0, false}}, 4,
               "img7");
      },
      {"img7", "[13]", "in the JSON but not in the PNG"});
  expect_error(
      [&] {
        pq.add(gt.data(), gt_segments, pred.data(), {{11, 1, 0, false}, {12, 99, 0, false}}, 4, "img7");
      },
      {"img7", "12", "unknown category_id 99"});
  // panopticapi ignores this one silently; we do not.
  expect_error(
      [&] {
        pq.add(gt.data(), {{1, 1, 2, false}}, pred.data(), {{11, 1, 0, false}, {12, 2, 0, false}}, 4, "img8");
      },
      {"img8", "ground-truth segment id 2", "not in the JSON"});
}

}  // namespace
}  // namespace deeplab::eval
